/**
 * Status's Dask lines on the cluster, from the platform's pods: the gateway, then each
 * user's clusters (their scheduler pods) with how many of their workers are ready. Pure.
 */
import {
  DASK_CLUSTER_LABEL,
  DASK_USER_LABEL,
  GATEWAY_COMPONENT,
  SCHEDULER_COMPONENT,
  WORKER_COMPONENT,
} from "../dask-endpoints.js";

/** What status needs of a pod. */
export interface DaskPod {
  part: string;
  phase: string;
  ready: boolean;
  labels: Record<string, string>;
}

export function daskStatusLines(pods: readonly DaskPod[]): string[] {
  const gateway = pods.filter((p) => p.part === GATEWAY_COMPONENT);
  const schedulers = pods.filter((p) => p.part === SCHEDULER_COMPONENT);
  const workers = pods.filter((p) => p.part === WORKER_COMPONENT);
  const gatewayWord = gateway.some((p) => p.ready)
    ? "ready"
    : gateway.length === 0
      ? "not running"
      : `not ready (${gateway.map((p) => p.phase).join(", ")})`;
  const lines = [`Dask gateway: ${gatewayWord}`, `Dask clusters: ${schedulers.length}`];
  const byUser = new Map<string, string[]>();
  for (const s of schedulers) {
    const cluster = s.labels[DASK_CLUSTER_LABEL] ?? "?";
    const user = s.labels[DASK_USER_LABEL] ?? "?";
    const own = workers.filter((w) => w.labels[DASK_CLUSTER_LABEL] === cluster);
    const ready = own.filter((w) => w.ready).length;
    const state = s.ready ? "running" : s.phase.toLowerCase();
    const line = `${cluster} ${state}, ${ready} of ${own.length} workers ready`;
    byUser.set(user, [...(byUser.get(user) ?? []), line]);
  }
  for (const [user, clusters] of [...byUser].sort(([a], [b]) => (a < b ? -1 : 1)))
    for (const c of clusters) lines.push(`  ${user}: ${c}`);
  return lines;
}
