/**
 * One rendered Kubernetes object as a deploy component: its spec is the object (no
 * secret values in it), so plan sees a change as a changed hash and a no-op deploy
 * writes nothing. Apply is a server-side apply with field manager `atrium` (taking
 * over fields another manager set), then a wait for a changed Deployment or Job.
 * A Job's pod template cannot change, so a changed Job is replaced. Removing an
 * object that left the file deletes it, except volumes: their data stays until
 * `destroy --purge`.
 */
import { type KubernetesObject, PatchStrategy } from "@kubernetes/client-node";
import type { Component } from "../../component.js";
import type { DeployState } from "../../target.js";
import { asClientModel } from "./client-model.js";
import { type ClusterConnection, clusterError, describe, FIELD_MANAGER, isNotFound } from "./connection.js";
import { waitReady } from "./wait.js";

export type NamedObject = KubernetesObject & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
};

/** The component name of an object: "deployment/hub", "namespace/team". */
export function objectKey(obj: NamedObject): string {
  return `${obj.kind.toLowerCase()}/${obj.metadata.name}`;
}

/** Kinds that hold data: never deleted by a deploy. */
export const DATA_KINDS = new Set(["PersistentVolumeClaim", "PersistentVolume"]);

async function exists(conn: ClusterConnection, obj: NamedObject): Promise<boolean> {
  try {
    await conn.objects.read(obj);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw clusterError(conn, `reading ${describe(obj)}`, err);
  }
}

async function serverSideApply(
  conn: ClusterConnection,
  obj: NamedObject,
  dryRun?: "All",
): Promise<KubernetesObject> {
  try {
    return await conn.objects.patch(
      asClientModel(obj),
      undefined,
      dryRun,
      FIELD_MANAGER,
      true,
      PatchStrategy.ServerSideApply,
    );
  } catch (err) {
    throw clusterError(conn, `applying ${describe(obj)}`, err);
  }
}

async function deleteObject(conn: ClusterConnection, obj: NamedObject): Promise<void> {
  try {
    await conn.objects.delete(obj, undefined, undefined, undefined, undefined, "Background");
  } catch (err) {
    if (!isNotFound(err)) throw clusterError(conn, `deleting ${describe(obj)}`, err);
  }
}

async function waitGone(conn: ClusterConnection, obj: NamedObject, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (await exists(conn, obj)) {
    if (Date.now() > deadline)
      throw clusterError(conn, `waiting for ${describe(obj)} to go`, new Error("timed out"));
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** What the state keeps of an applied object, enough to delete it once it leaves the file. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

function refOf(obj: NamedObject): ObjectRef {
  const ref: ObjectRef = { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name };
  if (obj.metadata.namespace) ref.namespace = obj.metadata.namespace;
  return ref;
}

function objectOf(ref: ObjectRef): NamedObject {
  return {
    apiVersion: ref.apiVersion,
    kind: ref.kind,
    metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
  };
}

export function objectComponent(conn: ClusterConnection, obj: NamedObject): Component {
  return {
    name: objectKey(obj),
    title: describe(obj),
    spec: obj,
    present: () => exists(conn, obj),
    async apply(previous, progress) {
      if (obj.kind === "Job" && previous !== undefined && (await exists(conn, obj))) {
        await deleteObject(conn, obj);
        await waitGone(conn, obj);
        progress.detail(`${describe(obj)} replaced: a Job's pods cannot change`);
      }
      await serverSideApply(conn, obj);
      await waitReady(conn, obj, progress);
      return { data: { ref: refOf(obj) } };
    },
    async remove(_previous, progress) {
      if (DATA_KINDS.has(obj.kind)) {
        progress.important(`kept ${describe(obj)}: it holds data; destroy --purge removes it`);
        return;
      }
      await deleteObject(conn, obj);
    },
  };
}

/** A dry-run apply: what the object would look like after apply (admission and defaults included). */
export function dryRunApply(conn: ClusterConnection, obj: NamedObject): Promise<KubernetesObject> {
  return serverSideApply(conn, obj, "All");
}

/**
 * Components for the objects the state holds and the render no longer makes, so
 * deploy deletes them (in reverse order of applying) after the rest is applied.
 */
export function leftoverComponents(
  conn: ClusterConnection,
  state: DeployState | undefined,
  rendered: ReadonlySet<string>,
): Component[] {
  const out: Component[] = [];
  for (const [name, entry] of Object.entries(state?.components ?? {}).reverse()) {
    if (rendered.has(name)) continue;
    const ref = (entry.data as { ref?: ObjectRef } | undefined)?.ref;
    if (!ref) continue;
    out.push({ ...objectComponent(conn, objectOf(ref)), name, wanted: false });
  }
  return out;
}
