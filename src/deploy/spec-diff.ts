/**
 * What changes inside a component, in words, from the outline recorded when it was
 * last applied and the one it has now. Pure. Lists of named items are compared by
 * name ("users: add dave"), lists of values as sets, objects key by key; content
 * hashes are shown as "changed", never as their values.
 */

/** At most this many lines per component; the rest is counted. */
export const MAX_DETAIL_LINES = 20;

type Item = Record<string, unknown>;
/** Fields that name an item of a list, in the order they are tried. */
const IDENTITY_KEYS = ["name", "group", "id", "path"];

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
/** The field that names every item of both lists, if there is one. */
function identityKey(...lists: unknown[][]): string | undefined {
  const items = lists.flat();
  if (!items.every(isObject)) return undefined;
  return IDENTITY_KEYS.find((k) => items.every((x) => typeof (x as Item)[k] === "string"));
}
const isPrimitive = (v: unknown) => v === null || ["string", "number", "boolean"].includes(typeof v);
const HASH = /^[0-9a-f]{16,}$/;

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function show(v: unknown): string {
  if (typeof v === "string" && HASH.test(v)) return "(content)";
  const text = JSON.stringify(v) ?? "undefined";
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

function diffNamed(path: string, key: string, before: Item[], after: Item[]): string[] {
  const id = (x: Item) => String(x[key]);
  const old = new Map(before.map((x) => [id(x), x]));
  const now = new Map(after.map((x) => [id(x), x]));
  const added = after.filter((x) => !old.has(id(x))).map(id);
  const removed = before.filter((x) => !now.has(id(x))).map(id);
  const lines: string[] = [];
  const label = path === "" ? "items" : path;
  if (added.length) lines.push(`${label}: add ${added.join(", ")}`);
  if (removed.length) lines.push(`${label}: remove ${removed.join(", ")}`);
  for (const x of after) {
    const prior = old.get(id(x));
    if (prior !== undefined) lines.push(...describeDiff(prior, x, `${label}[${id(x)}]`));
  }
  return lines;
}

function diffValues(path: string, before: unknown[], after: unknown[]): string[] {
  const key = (v: unknown) => JSON.stringify(v);
  const old = new Set(before.map(key));
  const now = new Set(after.map(key));
  const added = after.filter((v) => !old.has(key(v))).map(show);
  const removed = before.filter((v) => !now.has(key(v))).map(show);
  const parts = [
    ...(added.length ? [`add ${added.join(", ")}`] : []),
    ...(removed.length ? [`remove ${removed.join(", ")}`] : []),
  ];
  return [`${path === "" ? "list" : path}: ${parts.length ? parts.join("; ") : "order changed"}`];
}

/** The differences between two outlines, one line each, most general first. */
export function describeDiff(before: unknown, after: unknown, path = ""): string[] {
  if (same(before, after)) return [];
  if (Array.isArray(before) && Array.isArray(after)) {
    const key = identityKey(before, after);
    if (key !== undefined) return diffNamed(path, key, before as Item[], after as Item[]);
    if (before.every(isPrimitive) && after.every(isPrimitive)) return diffValues(path, before, after);
    return [`${path}: changed`];
  }
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return keys.flatMap((k) => {
      if (!(k in before))
        return [`${join(path, k)}: added${isPrimitive(after[k]) ? ` ${show(after[k])}` : ""}`];
      if (!(k in after)) return [`${join(path, k)}: removed`];
      return describeDiff(before[k], after[k], join(path, k));
    });
  }
  if (typeof before === "string" && typeof after === "string" && HASH.test(before) && HASH.test(after))
    return [`${path || "content"}: changed`];
  return [`${path || "value"}: ${show(before)} -> ${show(after)}`];
}

/** Keeps a component's detail short: the first lines and how many more there are. */
export function capLines(lines: string[], max = MAX_DETAIL_LINES): string[] {
  return lines.length <= max ? lines : [...lines.slice(0, max), `... and ${lines.length - max} more`];
}
