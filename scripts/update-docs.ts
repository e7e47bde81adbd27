/** Regenerate the committed JSON Schema and the README's config reference from the zod schema. */
import { readFileSync, writeFileSync } from "node:fs";
import { jsonSchemaText } from "../src/config/json-schema.js";
import { withReference } from "../src/config/reference.js";
import { repoPath } from "../src/paths.js";

writeFileSync(repoPath("schema", "atrium.schema.json"), jsonSchemaText());
const readme = repoPath("README.md");
writeFileSync(readme, withReference(readFileSync(readme, "utf8")));
process.stdout.write("updated schema/atrium.schema.json and the README's config reference\n");
