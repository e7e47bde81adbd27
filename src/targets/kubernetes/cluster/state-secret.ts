/**
 * The kubernetes target's deploy state, kept in the cluster as the Secret
 * `atrium-state` in the platform's namespace, so every admin's deploy sees the same
 * state; saved with the Secret's resourceVersion, so two writers never overwrite each
 * other unseen. A copy goes to a local root-only file, for a plan without the cluster.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { V1Secret } from "@kubernetes/client-node";
import { AtriumError } from "../../../errors.js";
import type { DeployState, StateStore } from "../../target.js";
import { type ClusterConnection, clusterError, FIELD_MANAGER, isNotFound } from "./connection.js";

export const STATE_SECRET = "atrium-state";
const KEY = "state.json";

function emptyState(project: string): DeployState {
  return { version: 1, project, components: {} };
}

function parseState(text: string, where: string, project: string): DeployState {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new AtriumError(
      "apply-failed",
      `the deploy state in ${where} is not JSON`,
      `delete it to start over (the next deploy then re-applies everything): kubectl delete secret ${STATE_SECRET}`,
    );
  }
  const state = data as Partial<DeployState>;
  if (state.version !== 1 || typeof state.components !== "object" || state.components === null)
    throw new AtriumError("apply-failed", `the deploy state in ${where} is not one Atrium wrote`);
  if (state.project !== project)
    throw new AtriumError(
      "apply-failed",
      `the namespace holds the platform of project ${state.project}, not ${project}`,
      "give this file its own target.namespace",
    );
  return state as DeployState;
}

/** The local copy, for an offline plan; undefined when there is none. */
export function readStateMirror(file: string, project: string): DeployState | undefined {
  try {
    return parseState(readFileSync(file, "utf8"), file, project);
  } catch {
    return undefined;
  }
}

function writeMirror(file: string, state: DeployState): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

export function secretStateStore(
  conn: ClusterConnection,
  namespace: string,
  project: string,
  mirrorFile: string,
  labels: Record<string, string>,
): StateStore {
  let resourceVersion: string | undefined;
  const header = { apiVersion: "v1", kind: "Secret", metadata: { name: STATE_SECRET, namespace } };
  return {
    location: `Secret ${namespace}/${STATE_SECRET} (context ${conn.context})`,
    readCopy: () => readStateMirror(mirrorFile, project),
    async load() {
      let secret: V1Secret;
      try {
        secret = await conn.objects.read<V1Secret>(header);
      } catch (err) {
        if (isNotFound(err)) {
          resourceVersion = undefined;
          return emptyState(project);
        }
        throw clusterError(conn, `reading the deploy state ${namespace}/${STATE_SECRET}`, err);
      }
      resourceVersion = secret.metadata?.resourceVersion;
      const text = Buffer.from(secret.data?.[KEY] ?? "", "base64").toString("utf8");
      const state = text
        ? parseState(text, `Secret ${namespace}/${STATE_SECRET}`, project)
        : emptyState(project);
      writeMirror(mirrorFile, state);
      return state;
    },
    async save(state) {
      const body: V1Secret = {
        ...header,
        metadata: { ...header.metadata, labels, ...(resourceVersion ? { resourceVersion } : {}) },
        type: "Opaque",
        data: { [KEY]: Buffer.from(JSON.stringify(state)).toString("base64") },
      };
      try {
        const saved = resourceVersion
          ? await conn.objects.replace<V1Secret>(body, undefined, undefined, FIELD_MANAGER)
          : await conn.objects.create<V1Secret>(body, undefined, undefined, FIELD_MANAGER);
        resourceVersion = saved.metadata?.resourceVersion;
      } catch (err) {
        if ((err as { code?: number }).code === 409)
          throw new AtriumError(
            "apply-failed",
            `the deploy state ${namespace}/${STATE_SECRET} was changed by someone else meanwhile`,
            "run the deploy again: it reads the state anew",
          );
        throw clusterError(conn, `saving the deploy state ${namespace}/${STATE_SECRET}`, err);
      }
      writeMirror(mirrorFile, state);
    },
  };
}
