/**
 * A config problem as data: where it is and what to do about it. Every check
 * (YAML syntax, schema, cross-field rules) yields these; only format.ts prints them.
 */
import type { ConfigPath } from "../lib/problem.js";

export type { ConfigPath, Problem } from "../lib/problem.js";

/** A problem before it has been located in the file. */
export interface UnlocatedProblem {
  path: ConfigPath;
  message: string;
  hint?: string;
  /** Point at the key itself rather than its value (unknown or duplicate keys). */
  atKey?: boolean;
}

/** `users[2].groups[0]`; the empty path is the whole file. */
export function formatPath(path: ConfigPath): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else out += out === "" ? seg : `.${seg}`;
  }
  return out === "" ? "(file)" : out;
}
