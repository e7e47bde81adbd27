/**
 * What every cross-field rule shares: reading the raw data defensively and
 * reporting into one list. A rule never reports about a value the schema already
 * rejected (wrong type, bad format): one mistake gives one problem.
 */
import type { ConfigPath, UnlocatedProblem } from "./problem.js";
import { quote } from "./text.js";

export type Rec = Record<string, unknown>;

export interface RuleContext {
  /** Line of the value at a path, for "first defined at ... (line N)". */
  lineOf: (path: ConfigPath) => number;
  /** Whether the schema reported a problem at exactly this path. */
  failed: (path: ConfigPath) => boolean;
}

export interface Ctx extends RuleContext {
  problems: UnlocatedProblem[];
}

export function isRec(v: unknown): v is Rec {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** The entries of a list section; entries that are not mappings read as empty ones. */
export function list(data: Rec, key: string): Rec[] {
  const v = data[key];
  return Array.isArray(v) ? v.map((x) => (isRec(x) ? x : {})) : [];
}

/** Whether every entry of a list section is a mapping, so that counting over them means something. */
export function allRecords(v: unknown): boolean {
  return Array.isArray(v) && v.every(isRec);
}

export function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

export function strings(v: unknown): Array<[number, string]> {
  if (!Array.isArray(v)) return [];
  return v.flatMap((x, i) => (typeof x === "string" ? [[i, x] as [number, string]] : []));
}

/** Each value of `field` once in the list; values missing or of another type are the schema's business. */
export function unique(
  ctx: Ctx,
  items: Rec[],
  section: ConfigPath,
  field: string,
  what: string,
  type: "string" | "number",
): void {
  const where = (i: number) => `${section.join(".")}[${i}]`;
  const first = new Map<unknown, number>();
  items.forEach((item, i) => {
    const v = item[field];
    if (typeof v !== type) return;
    const seen = first.get(v);
    if (seen === undefined) {
      first.set(v, i);
      return;
    }
    ctx.problems.push({
      path: [...section, i, field],
      message: `duplicate ${what} ${quote(v)}`,
      hint: `first defined at ${where(seen)} (line ${ctx.lineOf([...section, seen, field])}); use another ${field}`,
    });
  });
}
