/**
 * Plan's online step on a cluster (Target.preview): for each object the offline step
 * creates or updates, a server-side dry-run apply (field manager `atrium`, so the
 * cluster's admission and defaults are in the result) and the field-level difference
 * between the live object and that result; for each change, what it restarts or
 * affects (change-effects.ts). An object in a namespace that does not exist yet is not
 * dry-run (the namespace is made by the deploy). Must stay true: nothing is written
 * (only reads and dry runs); a cluster that does not answer skips the step with the
 * reason, it does not fail the plan.
 */
import type { KubernetesObject } from "@kubernetes/client-node";
import { AtriumError } from "../../../errors.js";
import type { Component } from "../../component.js";
import type { ComponentPreview, PlannedChange, PlanPreview } from "../../target.js";
import { effectsOf, type ObjectChange } from "../change-effects.js";
import { fieldDiff, formatFieldChange } from "../field-diff.js";
import { type ClusterConnection, clusterError, isNotFound } from "./connection.js";
import { namespaceExists } from "./namespace.js";
import { dryRunApply, type NamedObject, objectKey } from "./object-component.js";

type Obj = Record<string, unknown>;
const asObj = (o: KubernetesObject): Obj => o as unknown as Obj;

/** The object a component applies, when it is one of the rendered objects (not the identities record). */
function objectOf(c: Component): NamedObject | undefined {
  const spec = c.spec as Partial<NamedObject> | undefined;
  if (typeof spec?.kind !== "string" || typeof spec.apiVersion !== "string") return undefined;
  if (typeof spec.metadata?.name !== "string") return undefined;
  return objectKey(spec as NamedObject) === c.name ? (spec as NamedObject) : undefined;
}

async function readLive(conn: ClusterConnection, obj: NamedObject): Promise<KubernetesObject | undefined> {
  try {
    return await conn.objects.read(obj);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw clusterError(conn, `reading ${obj.kind} ${obj.metadata.name}`, err);
  }
}

interface Found {
  change: ObjectChange;
  extra: string[];
  problem?: string;
  unchecked?: boolean;
}

async function previewOne(
  conn: ClusterConnection,
  kind: PlannedChange["kind"],
  obj: NamedObject,
  missing: ReadonlySet<string>,
): Promise<Found> {
  if (kind === "delete") {
    const live = await readLive(conn, obj);
    return { change: { kind: "delete", object: asObj(live ?? obj), fields: [] }, extra: [] };
  }
  const namespace = obj.metadata.namespace;
  if (namespace !== undefined && missing.has(namespace))
    return { change: { kind: "create", object: asObj(obj), fields: [] }, extra: [], unchecked: true };
  const live = await readLive(conn, obj);
  let result: KubernetesObject;
  try {
    result = await dryRunApply(conn, obj);
  } catch (err) {
    if (err instanceof AtriumError && err.code === "unreachable") throw err;
    return {
      change: { kind: live ? "update" : "create", object: asObj(obj), fields: [] },
      extra: [],
      problem: (err as Error).message,
    };
  }
  if (live === undefined) {
    const extra = kind === "update" ? ["missing from the cluster: deploy makes it again"] : [];
    return { change: { kind: "create", object: asObj(result), fields: [] }, extra };
  }
  return { change: { kind: "update", object: asObj(result), fields: fieldDiff(live, result) }, extra: [] };
}

function noteOf(conn: ClusterConnection, found: Found[], missing: ReadonlySet<string>): string {
  const checked = found.filter((f) => !f.unchecked && f.change.kind !== "delete");
  const differ = checked.filter((f) => f.change.fields.length > 0).length;
  const refused = checked.filter((f) => f.problem !== undefined).length;
  const unchecked = found.filter((f) => f.unchecked).length;
  const parts = [
    `server-side dry run on context ${conn.context}: ${checked.length} object${checked.length === 1 ? "" : "s"} checked, ${differ} differ from the cluster`,
  ];
  if (refused) parts.push(`${refused} refused`);
  if (unchecked)
    parts.push(
      `${unchecked} not checked: namespace ${[...missing].join(", ")} does not exist yet (deploy makes it)`,
    );
  return parts.join("; ");
}

/** The online step for the kubernetes target; reads and dry runs only. */
export async function previewChanges(
  conn: ClusterConnection,
  changes: readonly PlannedChange[],
  components: readonly Component[],
): Promise<PlanPreview> {
  const objects = new Map<string, NamedObject>();
  for (const c of components) {
    const obj = objectOf(c);
    if (obj !== undefined) objects.set(c.name, obj);
  }
  const rendered = components
    .filter((c) => c.wanted !== false)
    .flatMap((c) => objects.get(c.name) ?? [])
    .map(asObj);
  const todo = changes.filter((c) => c.kind !== "same" && objects.has(c.component));
  const found = new Map<string, Found>();
  const missing = new Set<string>();
  try {
    const namespaces = new Set(todo.flatMap((c) => objects.get(c.component)?.metadata.namespace ?? []));
    for (const ns of namespaces) if (!(await namespaceExists(conn, ns))) missing.add(ns);
    for (const c of todo) {
      const obj = objects.get(c.component) as NamedObject;
      found.set(c.component, await previewOne(conn, c.kind, obj, missing));
    }
  } catch (err) {
    if (err instanceof AtriumError && err.code === "unreachable")
      return { ran: false, note: err.message, components: [] };
    throw err;
  }
  const all = [...found.values()].map((f) => f.change);
  const previews: ComponentPreview[] = [];
  for (const [component, f] of found) {
    const preview: ComponentPreview = {
      component,
      fields: f.change.fields.map(formatFieldChange),
      effects: f.problem === undefined ? [...f.extra, ...effectsOf(f.change, all, rendered)] : [],
    };
    if (f.problem !== undefined) preview.problem = f.problem;
    previews.push(preview);
  }
  return { ran: true, note: noteOf(conn, [...found.values()], missing), components: previews };
}
