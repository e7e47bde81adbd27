/**
 * The field-level difference between a live Kubernetes object and what a server-side
 * dry-run apply says it would become. Pure. Fields the API server owns (managedFields,
 * resourceVersion, uid, generation, creationTimestamp, status, annotations it adds)
 * are left out; list items are matched by name where every item has a distinct one
 * (`containers[hub]`), else by another distinct key (`volumeMounts[mountPath=/etc/group]`),
 * else by position; a string holding JSON on both sides (the hub settings) is compared
 * inside. Must stay true: a Secret's data is never shown, only "(secret)".
 */

/** One step of a field path: an object key, a list item by its key, or a list position. */
export type PathStep = string | number | { key: string; value: string };

export interface FieldChange {
  path: PathStep[];
  change: "changed" | "added" | "removed";
  /** The values as shown (secret values as "(secret)"), never the values themselves. */
  before?: string;
  after?: string;
}

const SERVER_METADATA = [
  "managedFields",
  "resourceVersion",
  "uid",
  "generation",
  "creationTimestamp",
  "selfLink",
];
/** Annotations the API server, its controllers or kubectl write; never Atrium's. */
const SERVER_ANNOTATIONS = [
  "deployment.kubernetes.io/revision",
  "kubectl.kubernetes.io/last-applied-configuration",
  "pv.kubernetes.io/bind-completed",
  "pv.kubernetes.io/bound-by-controller",
  "volume.beta.kubernetes.io/storage-provisioner",
  "volume.kubernetes.io/storage-provisioner",
  "volume.kubernetes.io/selected-node",
];
/** Keys that name a list's items, in the order tried; each must be distinct across the list. */
const ITEM_KEYS = ["name", "mountPath", "devicePath", "key", "path", "containerPort", "port"];
const SECRET_FIELDS = ["data", "stringData"];
const SECRET = "(secret)";
const MAX_SHOWN = 60;

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** The object without what the server owns, so only what an apply changes is compared. */
export function withoutServerFields(obj: unknown): Obj {
  if (!isObject(obj)) return {};
  const { status: _status, ...rest } = obj;
  const meta = isObject(rest.metadata) ? { ...rest.metadata } : undefined;
  if (meta === undefined) return rest;
  for (const k of SERVER_METADATA) delete meta[k];
  if (isObject(meta.annotations)) {
    const annotations = { ...meta.annotations };
    for (const k of SERVER_ANNOTATIONS) delete annotations[k];
    if (Object.keys(annotations).length) meta.annotations = annotations;
    else delete meta.annotations;
  }
  return { ...rest, metadata: meta };
}

function show(v: unknown): string {
  const text = JSON.stringify(v) ?? "undefined";
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN - 3)}...` : text;
}

/** Two long strings: where they first differ, by line, instead of two cut-off beginnings. */
function showStrings(before: string, after: string): Pick<FieldChange, "before" | "after"> {
  if (JSON.stringify(before).length <= MAX_SHOWN && JSON.stringify(after).length <= MAX_SHOWN)
    return { before: show(before), after: show(after) };
  const a = before.split("\n");
  const b = after.split("\n");
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const line = (l: string | undefined) => (l === undefined ? "(no line)" : show(l));
  return { before: `line ${i + 1}: ${line(a[i])}`, after: line(b[i]) };
}

function parseJson(text: string): unknown {
  if (!/^\s*[{[]/.test(text)) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function itemKey(...lists: unknown[][]): string | undefined {
  return ITEM_KEYS.find((k) =>
    lists.every((list) => {
      const values = list.map((x) => (isObject(x) ? x[k] : undefined));
      const ok = values.every((v) => typeof v === "string" || typeof v === "number");
      return ok && new Set(values).size === values.length;
    }),
  );
}

interface Walk {
  secret: boolean;
  out: FieldChange[];
}

function added(path: PathStep[], value: unknown, w: Walk): void {
  w.out.push({ path, change: "added", after: w.secret ? SECRET : show(value) });
}
function removed(path: PathStep[], value: unknown, w: Walk): void {
  w.out.push({ path, change: "removed", before: w.secret ? SECRET : show(value) });
}

function walkList(path: PathStep[], before: unknown[], after: unknown[], w: Walk): void {
  const key = before.length || after.length ? itemKey(before, after) : undefined;
  if (key === undefined) {
    // no key: objects by position, anything else as the whole list
    if (!before.every(isObject) || !after.every(isObject)) {
      w.out.push({ path, change: "changed", before: show(before), after: show(after) });
      return;
    }
    for (let i = 0; i < Math.max(before.length, after.length); i++)
      walk([...path, i], before[i], after[i], w);
    return;
  }
  const id = (x: unknown) => String((x as Obj)[key]);
  const step = (x: unknown): PathStep => ({ key, value: id(x) });
  const old = new Map(before.map((x) => [id(x), x]));
  const now = new Map(after.map((x) => [id(x), x]));
  for (const x of after) {
    const prior = old.get(id(x));
    if (prior === undefined) added([...path, step(x)], x, w);
    else walk([...path, step(x)], prior, x, w);
  }
  for (const x of before) if (!now.has(id(x))) removed([...path, step(x)], x, w);
  const order = (list: unknown[], keep: Map<string, unknown>) => list.map(id).filter((k) => keep.has(k));
  if (order(before, now).join("\0") !== order(after, old).join("\0"))
    w.out.push({ path, change: "changed", before: "(order)", after: "(new order)" });
}

function walk(path: PathStep[], before: unknown, after: unknown, w: Walk): void {
  if (JSON.stringify(before) === JSON.stringify(after)) return;
  if (before === undefined) added(path, after, w);
  else if (after === undefined) removed(path, before, w);
  else if (isObject(before) && isObject(after)) {
    for (const k of new Set([...Object.keys(before), ...Object.keys(after)]))
      walk([...path, k], before[k], after[k], w);
  } else if (w.secret) w.out.push({ path, change: "changed", before: SECRET, after: SECRET });
  else if (Array.isArray(before) && Array.isArray(after)) walkList(path, before, after, w);
  else if (typeof before === "string" && typeof after === "string") {
    const [a, b] = [parseJson(before), parseJson(after)];
    if (a !== undefined && b !== undefined) walk(path, a, b, w);
    else w.out.push({ path, change: "changed", ...showStrings(before, after) });
  } else w.out.push({ path, change: "changed", before: show(before), after: show(after) });
}

/**
 * What applying changes in the object: `live` as the cluster has it, `result` as the
 * dry run returned it. Both are compared without their server-owned fields.
 */
export function fieldDiff(live: unknown, result: unknown): FieldChange[] {
  const before = withoutServerFields(live);
  const after = withoutServerFields(result);
  const kind = after.kind ?? before.kind;
  const out: FieldChange[] = [];
  for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) {
    walk([k], before[k], after[k], { secret: kind === "Secret" && SECRET_FIELDS.includes(k), out });
  }
  return out;
}

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `spec.template.spec.containers[hub].image`, `metadata.annotations["atrium.dev/settings-hash"]`. */
export function formatPath(path: readonly PathStep[]): string {
  let text = "";
  for (const step of path) {
    if (typeof step === "number") text += `[${step}]`;
    else if (typeof step === "object")
      text += step.key === "name" ? `[${step.value}]` : `[${step.key}=${step.value}]`;
    else if (PLAIN_KEY.test(step)) text += text === "" ? step : `.${step}`;
    else text += `[${JSON.stringify(step)}]`;
  }
  return text;
}

/** One line per change: `path: "a" -> "b"`, `path: added 3`, `path: removed (was 3)`. */
export function formatFieldChange(c: FieldChange): string {
  const path = formatPath(c.path);
  if (c.change === "added") return `${path}: added ${c.after}`;
  if (c.change === "removed") return `${path}: removed (was ${c.before})`;
  return `${path}: ${c.before} -> ${c.after}`;
}
