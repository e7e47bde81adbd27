/**
 * Reads the zod schema's structure: which schema applies at a config path, which
 * keys an object there accepts, and which variant of a union a key belongs to.
 * Used for "did you mean" hints, for checking a suggested fix before offering it,
 * and for reading defaults instead of repeating them.
 */
import type { z } from "zod";
import type { ConfigPath } from "./problem.js";

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  innerType?: z.ZodType;
  options?: z.ZodType[];
  discriminator?: string;
  values?: unknown[];
  valueType?: z.ZodType;
  in?: z.ZodType;
}

export function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

/** Strip default/optional/nullable/pipe wrappers. */
export function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (;;) {
    const def = defOf(s);
    if ((def.type === "default" || def.type === "optional" || def.type === "nullable") && def.innerType) {
      s = def.innerType;
    } else if (def.type === "pipe" && def.in) {
      s = def.in;
    } else {
      return s;
    }
  }
}

function valueAt(data: unknown, path: ConfigPath): unknown {
  let v: unknown = data;
  for (const seg of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}

/** The literal a union variant has for the discriminator key, e.g. "oidc". */
function literalOf(variant: z.ZodType, key: string): unknown {
  const field = defOf(variant).shape?.[key];
  return field ? defOf(unwrap(field)).values?.[0] : undefined;
}

/**
 * The object schemas a value at this point may be (several for a union). With
 * `value`, a discriminated union gives only the variant the value selects, when
 * it selects one.
 */
export function objectsOf(schema: z.ZodType, value?: unknown): z.ZodType[] {
  const s = unwrap(schema);
  const def = defOf(s);
  if (def.type === "object") return [s];
  if (def.type === "union" && def.options) {
    const key = def.discriminator;
    if (key !== undefined && value !== null && typeof value === "object") {
      const chosen = def.options.filter(
        (o) => literalOf(unwrap(o), key) === (value as Record<string, unknown>)[key],
      );
      if (chosen.length > 0) return chosen.flatMap((o) => objectsOf(o));
    }
    return def.options.flatMap((o) => objectsOf(o));
  }
  return [];
}

function step(schema: z.ZodType, seg: string | number, value: unknown): z.ZodType[] {
  const s = unwrap(schema);
  const def = defOf(s);
  if (typeof seg === "number") return def.type === "array" && def.element ? [def.element] : [];
  if (def.type === "record" && def.valueType) return [def.valueType];
  return objectsOf(s, value).flatMap((o) => {
    const child = defOf(o).shape?.[seg];
    return child ? [child] : [];
  });
}

/** The schemas (wrappers kept) that apply at `path`; `data` picks union variants. */
export function schemasAt(root: z.ZodType, path: ConfigPath, data?: unknown): z.ZodType[] {
  let current: z.ZodType[] = [root];
  path.forEach((seg, i) => {
    const here = valueAt(data, path.slice(0, i));
    current = current.flatMap((s) => step(s, seg, here));
  });
  return current;
}

/** Keys accepted by the object at `path` (the variant `data` selects, for a union), sorted. */
export function keysAt(root: z.ZodType, path: ConfigPath, data?: unknown): string[] {
  const here = valueAt(data, path);
  const keys = new Set<string>();
  for (const s of schemasAt(root, path, data)) {
    for (const o of objectsOf(s, here)) for (const k of Object.keys(defOf(o).shape ?? {})) keys.add(k);
  }
  keys.delete("$schema");
  return [...keys].sort();
}

/** Keys of the object at `path` in the order the schema states them. */
export function shapeKeys(root: z.ZodType, path: ConfigPath): string[] {
  const keys: string[] = [];
  for (const s of schemasAt(root, path))
    for (const o of objectsOf(s)) keys.push(...Object.keys(defOf(o).shape ?? {}));
  return [...new Set(keys)];
}

/**
 * For a key the selected variant of a discriminated union lacks: the
 * discriminator and the values of the variants that do have it ("type", ["oidc"]).
 */
export function variantsWithKey(
  root: z.ZodType,
  path: ConfigPath,
  key: string,
): { discriminator: string; values: string[] } | undefined {
  for (const s of schemasAt(root, path)) {
    const def = defOf(unwrap(s));
    if (def.type !== "union" || def.discriminator === undefined || !def.options) continue;
    const discriminator = def.discriminator;
    const values = def.options
      .map(unwrap)
      .filter((o) => defOf(o).shape?.[key] !== undefined)
      .map((o) => String(literalOf(o, discriminator)));
    if (values.length > 0) return { discriminator, values };
  }
  return undefined;
}

/** Whether `value` passes the field schema at `path` on its own (no cross-field rules). */
export function fitsAt(root: z.ZodType, path: ConfigPath, value: unknown, data?: unknown): boolean {
  const schemas = schemasAt(root, path, data);
  return schemas.length > 0 && schemas.some((s) => s.safeParse(value).success);
}

/** The default the schema gives a field at `path` when it is left out. */
export function defaultAt(root: z.ZodType, path: ConfigPath): unknown {
  const s = schemasAt(root, path)[0];
  if (!s) return undefined;
  const r = s.safeParse(undefined);
  return r.success ? r.data : undefined;
}

/** The first issue message the field schema at `path` gives for `value`, if any. */
export function messageAt(root: z.ZodType, path: ConfigPath, value: unknown): string | undefined {
  const s = schemasAt(root, path)[0];
  const r = s?.safeParse(value);
  return r && !r.success ? r.error.issues[0]?.message : undefined;
}
