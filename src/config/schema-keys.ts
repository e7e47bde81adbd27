/**
 * Reads the zod schema's structure: which keys an object at a given config path
 * accepts. Used for "did you mean" hints and the generated config reference.
 */
import type { z } from "zod";
import type { ConfigPath } from "./problem.js";

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  innerType?: z.ZodType;
  options?: z.ZodType[];
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

/** The object schemas a value at this point may be (several for a union). */
function objectsOf(schema: z.ZodType): z.ZodType[] {
  const s = unwrap(schema);
  const def = defOf(s);
  if (def.type === "object") return [s];
  if (def.type === "union" && def.options) return def.options.flatMap(objectsOf);
  return [];
}

function step(schema: z.ZodType, seg: string | number): z.ZodType[] {
  const s = unwrap(schema);
  const def = defOf(s);
  if (typeof seg === "number") return def.type === "array" && def.element ? [def.element] : [];
  return objectsOf(s).flatMap((o) => {
    const child = defOf(o).shape?.[seg];
    return child ? [child] : [];
  });
}

/** Keys accepted by the object at `path` (union members merged), sorted. */
export function keysAt(root: z.ZodType, path: ConfigPath): string[] {
  let current: z.ZodType[] = [root];
  for (const seg of path) current = current.flatMap((s) => step(s, seg));
  const keys = new Set<string>();
  for (const s of current) for (const o of objectsOf(s)) for (const k of Object.keys(defOf(o).shape ?? {})) keys.add(k);
  keys.delete("$schema");
  return [...keys].sort();
}
