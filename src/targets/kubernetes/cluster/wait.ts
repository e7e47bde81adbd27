/**
 * Waiting for what an apply changed: a Deployment until its new pods are available,
 * a Job until it succeeded. Polls (a read each second); a timeout or a failure says
 * what the pods report, so the admin knows where to look.
 */
import {
  CoreV1Api,
  type KubernetesObject,
  type V1Deployment,
  type V1Job,
  type V1Pod,
  type V1ReplicaSet,
} from "@kubernetes/client-node";
import { AtriumError } from "../../../errors.js";
import type { Progress } from "../../component.js";
import { type ClusterConnection, clusterError, describe } from "./connection.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function deploymentReady(d: V1Deployment): boolean {
  const want = d.spec?.replicas ?? 1;
  const s = d.status;
  return (
    (s?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) &&
    (s?.updatedReplicas ?? 0) === want &&
    (s?.availableReplicas ?? 0) === want &&
    (s?.replicas ?? 0) === want
  );
}

function podsOf(conn: ClusterConnection, namespace: string, selector: string) {
  return conn.objects.list<V1Pod>(
    "v1",
    "Pod",
    namespace,
    undefined,
    undefined,
    undefined,
    undefined,
    selector,
  );
}

/** One line per pod of `selector` that is not ready: its phase and its containers' waiting or terminated reasons. */
async function podTrouble(conn: ClusterConnection, namespace: string, selector: string): Promise<string> {
  try {
    const pods = await podsOf(conn, namespace, selector);
    return pods.items
      .map((p) => {
        const states = (p.status?.containerStatuses ?? [])
          .map((c) => c.state?.waiting?.reason ?? c.state?.terminated?.reason)
          .filter(Boolean);
        return `${p.metadata?.name}: ${p.status?.phase}${states.length ? ` (${states.join(", ")})` : ""}`;
      })
      .join("; ");
  } catch {
    return "";
  }
}

function labelSelector(labels: Record<string, string> | undefined): string {
  return Object.entries(labels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}

const REVISION = "deployment.kubernetes.io/revision";

/**
 * The selector of the Deployment's current pods (its newest ReplicaSet's template hash),
 * so an old version's pod on its way out is not taken for the new one; undefined until
 * the controller has made that ReplicaSet.
 */
async function currentPods(
  conn: ClusterConnection,
  deployment: V1Deployment,
  selector: string,
): Promise<string | undefined> {
  const revision = deployment.metadata?.annotations?.[REVISION];
  if (!revision) return undefined;
  try {
    const sets = await conn.objects.list<V1ReplicaSet>(
      "apps/v1",
      "ReplicaSet",
      deployment.metadata?.namespace,
      undefined,
      undefined,
      undefined,
      undefined,
      selector,
    );
    const hash = sets.items.find((r) => r.metadata?.annotations?.[REVISION] === revision)?.metadata?.labels?.[
      "pod-template-hash"
    ];
    return hash ? `${selector},pod-template-hash=${hash}` : undefined;
  } catch {
    return undefined;
  }
}

/** The last lines a container wrote before it last ended, indented; empty when they can't be read. */
async function lastLines(
  conn: ClusterConnection,
  namespace: string,
  pod: string,
  container: string,
): Promise<string> {
  try {
    const text = await conn.config
      .makeApiClient(CoreV1Api)
      .readNamespacedPodLog({ name: pod, namespace, container, previous: true, tailLines: 12 });
    const lines = String(text)
      .trimEnd()
      .split("\n")
      .filter((l) => l.trim() !== "");
    return lines.length === 0 ? "" : `\n  its last lines:\n${lines.map((l) => `    ${l}`).join("\n")}`;
  } catch {
    return "";
  }
}

/** A pod of the selector whose container (or init container) keeps failing, said as one line and its log's end. */
async function crashLooping(
  conn: ClusterConnection,
  namespace: string,
  selector: string,
  since: number,
): Promise<string | undefined> {
  try {
    const pods = await podsOf(conn, namespace, selector);
    for (const p of pods.items) {
      for (const c of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) {
        const last = c.lastState?.terminated;
        // failed again since this wait began (an earlier failure may be what this deploy fixes)
        const lately = last?.finishedAt !== undefined && new Date(last.finishedAt).getTime() >= since;
        if (c.restartCount >= 3 && lately) {
          const said = `${p.metadata?.name}: container ${c.name} failed ${c.restartCount} times${last ? ` (last: exit ${last.exitCode}${last.reason ? `, ${last.reason}` : ""})` : ""}`;
          return said + (await lastLines(conn, namespace, p.metadata?.name ?? "", c.name));
        }
      }
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/**
 * Waits for a Deployment's new pods or a Job's success. The first deploy's hub builds
 * its environments before it starts (minutes), so a Deployment gets 15 minutes; a pod
 * whose container keeps failing ends the wait at once, with its reason.
 */
export async function waitReady(
  conn: ClusterConnection,
  obj: KubernetesObject,
  progress: Progress,
  timeoutMs = obj.kind === "Deployment" ? 900_000 : 300_000,
): Promise<void> {
  if (obj.kind !== "Deployment" && obj.kind !== "Job") return;
  const namespace = obj.metadata?.namespace ?? "default";
  const started = Date.now();
  const deadline = started + timeoutMs;
  let said = false;
  for (;;) {
    let live: KubernetesObject;
    try {
      live = await conn.objects.read(obj as KubernetesObject & { metadata: { name: string } });
    } catch (err) {
      throw clusterError(conn, `waiting for ${describe(obj)}`, err);
    }
    if (obj.kind === "Deployment" && deploymentReady(live as V1Deployment)) return;
    if (obj.kind === "Job") {
      const job = live as V1Job;
      if ((job.status?.succeeded ?? 0) > 0) return;
      const failed = job.status?.conditions?.find((c) => c.type === "Failed" && c.status === "True");
      if (failed) {
        const trouble = await podTrouble(conn, namespace, `job-name=${obj.metadata?.name}`);
        throw new AtriumError(
          "apply-failed",
          `${describe(obj)} failed: ${failed.reason ?? ""} ${failed.message ?? ""}`.trim() +
            (trouble ? ` — ${trouble}` : ""),
          `see its log: kubectl -n ${namespace} logs job/${obj.metadata?.name}`,
        );
      }
    }
    if (obj.kind === "Deployment") {
      const selector = labelSelector((live as V1Deployment).spec?.selector?.matchLabels);
      const current = await currentPods(conn, live as V1Deployment, selector);
      const looping = current ? await crashLooping(conn, namespace, current, started) : undefined;
      if (looping) {
        throw new AtriumError(
          "apply-failed",
          `${describe(obj)} does not start: ${looping}`,
          `see its log: kubectl -n ${namespace} logs --all-containers -l ${selector}`,
        );
      }
    }
    if (Date.now() > deadline) {
      const selector =
        obj.kind === "Job"
          ? `job-name=${obj.metadata?.name}`
          : labelSelector((live as V1Deployment).spec?.selector?.matchLabels);
      const trouble = await podTrouble(conn, namespace, selector);
      throw new AtriumError(
        "apply-failed",
        `${describe(obj)} was not ready after ${Math.round(timeoutMs / 1000)}s${trouble ? `: ${trouble}` : ""}`,
        `look at its pods: kubectl -n ${namespace} describe pods -l ${selector}`,
      );
    }
    if (!said) {
      progress.detail(`waiting for ${describe(obj)}`);
      said = true;
    }
    await sleep(1000);
  }
}
