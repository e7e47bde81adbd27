import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { jsonSchemaText } from "../../src/config/json-schema.js";
import { withReference } from "../../src/config/reference.js";
import { repoPath } from "../../src/paths.js";

describe("generated docs", () => {
  it("schema/atrium.schema.json is the schema's current JSON Schema (npm run docs)", () => {
    assert.equal(readFileSync(repoPath("schema", "atrium.schema.json"), "utf8"), jsonSchemaText());
  });
  it("the README's config reference is current (npm run docs)", () => {
    const readme = readFileSync(repoPath("README.md"), "utf8");
    assert.equal(withReference(readme), readme);
  });
  it("every example starts with the yaml-language-server schema line", () => {
    for (const name of ["quickstart", "team"]) {
      const first = readFileSync(repoPath("examples", `${name}.yaml`), "utf8").split("\n")[0];
      assert.equal(first, "# yaml-language-server: $schema=../schema/atrium.schema.json");
    }
  });
});
