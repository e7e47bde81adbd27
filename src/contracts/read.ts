/**
 * Reading a contract file: parse it with its schema or say, in one error, the file
 * and every problem (key path and rule), so a drift between writer and reader is
 * fixed in one go.
 */
import { readFileSync } from "node:fs";
import type { z } from "zod";
import { AtriumError } from "../errors.js";

function keyPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || "(top)";
}

/** The value as the contract types it, or an AtriumError naming `source` and every problem. */
export function parseContract<T extends z.ZodType>(schema: T, data: unknown, source: string): z.infer<T> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => `  ${source}  ${keyPath(i.path)}  ${i.message}`);
  throw new AtriumError(
    "config-invalid",
    `${source} does not follow its contract:\n${lines.join("\n")}`,
    "it is written by Atrium: run atrium deploy to rewrite it, or fix or remove it",
  );
}

/** Read and parse a contract file; a missing or broken file is an AtriumError naming it. */
export function readContractFile<T extends z.ZodType>(schema: T, file: string): z.infer<T> {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new AtriumError(
      "file-not-found",
      `can't read ${file}: ${(err as Error).message}`,
      "run atrium deploy",
    );
  }
  return parseContract(schema, data, file);
}
