/** `atrium schema`: the JSON Schema of atrium.yaml, for editors and CI. */
import { jsonSchemaText } from "../../config/json-schema.js";
import { parseCommandArgs } from "../args.js";

export async function run(args: string[]): Promise<number> {
  if (!parseCommandArgs("schema", args, {}, "")) return 0;
  process.stdout.write(jsonSchemaText());
  return 0;
}
