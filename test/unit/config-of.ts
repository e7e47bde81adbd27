/** A valid config from YAML text, failing the test with its problems otherwise. */
import assert from "node:assert/strict";
import { validateText } from "../../src/config/load.js";
import type { Config } from "../../src/config/schema.js";

export function configOf(yaml: string): Config {
  const loaded = validateText("atrium.yaml", yaml);
  assert.ok(loaded.config, JSON.stringify(loaded.problems));
  return loaded.config;
}
