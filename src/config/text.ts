/** Small wording helpers shared by every message about the config. Pure. */

/** A short quotation of a value for messages: "8Gb", 42, true, a list, a mapping. */
export function quote(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (v === null) return "null (empty)";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return String(v);
}

/** What a value is, for "expected X, got Y". */
export function kind(v: unknown): string {
  if (v === null || v === undefined) return "nothing";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  if (typeof v === "string") return `the text ${quote(v)}`;
  if (typeof v === "number") return `the number ${v}`;
  return String(v);
}

/** "a user", "an environment". */
export function article(word: string): string {
  return /^[aeiou]/i.test(word) ? `an ${word}` : `a ${word}`;
}

/** "1 entry", "2 entries" style counts for the few plural words we use. */
export function plural(n: number, one: string, many: string): string {
  return n === 1 ? `${n} ${one}` : `${n} ${many}`;
}
