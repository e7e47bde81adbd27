import { createHash } from "node:crypto";
import { stableJson } from "./stable-json.js";

/** Short content hash of plain data (key order does not matter). */
export function hashOf(value: unknown): string {
  return createHash("sha256").update(stableJson(value)).digest("hex").slice(0, 16);
}

export function hashText(text: string | Buffer): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}
