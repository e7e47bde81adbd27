/** The published JSON Schema, generated from the zod schema (the input side, so defaults are optional). */
import { z } from "zod";
import { configSchema } from "./schema.js";

export const SCHEMA_ID = "https://atrium.dev/schema/atrium.schema.json";

export function jsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, { io: "input", target: "draft-2020-12" }) as Record<
    string,
    unknown
  >;
  return { ...schema, $id: SCHEMA_ID, title: "atrium.yaml" };
}

export function jsonSchemaText(): string {
  return `${JSON.stringify(jsonSchema(), null, 2)}\n`;
}
