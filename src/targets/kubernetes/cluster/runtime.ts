/**
 * The platform as it runs on the cluster, for status, logs and endpoints: its pods by
 * part (the hub, the proxy, the environment service, user servers, the Dask gateway and
 * each user's Dask clusters), a part's log, and where people reach it.
 */
import { PassThrough } from "node:stream";
import { CoreV1Api, Log, type V1Node, type V1Pod, type V1Service } from "@kubernetes/client-node";
import { AtriumError } from "../../../errors.js";
import type { LogOptions, TargetStatus } from "../../target.js";
import { GATEWAY_COMPONENT } from "../dask-endpoints.js";
import { ENVS_COMPONENT } from "../envs.js";
import { HUB_COMPONENT } from "../hub.js";
import { USER_COMPONENT } from "../kube-spawner.js";
import type { KubernetesPlacement } from "../placement.js";
import { PROXY_COMPONENT } from "../proxy.js";
import { SSH_COMPONENT } from "../ssh-gateway.js";
import { type ClusterConnection, clusterError } from "./connection.js";
import { daskStatusLines } from "./dask-status.js";
import { readSshSeen, sshStatusLines } from "./ssh-status.js";

const COMPONENT_LABEL = "app.kubernetes.io/component";
const INSTANCE_LABEL = "app.kubernetes.io/instance";
export const LOG_NAMES = [
  HUB_COMPONENT,
  PROXY_COMPONENT,
  ENVS_COMPONENT,
  GATEWAY_COMPONENT,
  SSH_COMPONENT,
] as const;
/** A part's container where it is not named after the part. */
const LOG_CONTAINERS: Record<string, string> = { [GATEWAY_COMPONENT]: "gateway" };

export interface PodSummary {
  name: string;
  part: string;
  phase: string;
  ready: boolean;
  node: string | null;
  user?: string;
  labels: Record<string, string>;
}

async function podsOf(
  conn: ClusterConnection,
  placement: KubernetesPlacement,
  project: string,
): Promise<V1Pod[]> {
  const core = conn.config.makeApiClient(CoreV1Api);
  try {
    const list = await core.listNamespacedPod({
      namespace: placement.namespace,
      labelSelector: `${INSTANCE_LABEL}=${project}`,
    });
    return list.items;
  } catch (err) {
    throw clusterError(conn, `listing the pods of namespace ${placement.namespace}`, err);
  }
}

function summary(pod: V1Pod): PodSummary {
  const ready = (pod.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
  const out: PodSummary = {
    name: pod.metadata?.name ?? "",
    part: pod.metadata?.labels?.[COMPONENT_LABEL] ?? "",
    phase: pod.status?.phase ?? "Unknown",
    ready,
    node: pod.spec?.nodeName ?? null,
    labels: pod.metadata?.labels ?? {},
  };
  const user = pod.metadata?.annotations?.["hub.jupyter.org/username"];
  if (user) out.user = user;
  return out;
}

export async function clusterStatus(
  conn: ClusterConnection,
  placement: KubernetesPlacement,
  project: string,
  dask: boolean,
  ssh: boolean,
): Promise<TargetStatus> {
  const pods = (await podsOf(conn, placement, project)).map(summary);
  const part = (name: string) => pods.filter((p) => p.part === name);
  const hubReady = part(HUB_COMPONENT).some((p) => p.ready);
  const proxyReady = part(PROXY_COMPONENT).some((p) => p.ready);
  const servers = part(USER_COMPONENT);
  const word = (ready: boolean, list: PodSummary[]) =>
    ready
      ? "ready"
      : list.length === 0
        ? "not running"
        : `not ready (${list.map((p) => p.phase).join(", ")})`;
  const lines = [
    `cluster ${conn.context} (${conn.server}), namespace ${placement.namespace}`,
    `hub: ${word(hubReady, part(HUB_COMPONENT))}`,
    `proxy: ${word(proxyReady, part(PROXY_COMPONENT))}`,
    `environment service: ${word(
      part(ENVS_COMPONENT).some((p) => p.ready),
      part(ENVS_COMPONENT),
    )}`,
    `user servers: ${servers.length}`,
    ...servers.map(
      (p) => `  ${p.user ?? p.name}: ${p.ready ? "ready" : p.phase} on ${p.node ?? "no node yet"}`,
    ),
    ...(dask ? daskStatusLines(pods) : []),
    ...(ssh ? sshStatusLines(pods, await readSshSeen(conn, placement)) : []),
  ];
  return {
    answering: hubReady && proxyReady,
    report: { context: conn.context, namespace: placement.namespace, hub: hubReady, proxy: proxyReady, pods },
    lines,
  };
}

export async function clusterLogs(
  conn: ClusterConnection,
  placement: KubernetesPlacement,
  project: string,
  name: string,
  options: LogOptions,
): Promise<void> {
  const pods = (await podsOf(conn, placement, project)).filter(
    (p) => p.metadata?.labels?.[COMPONENT_LABEL] === name,
  );
  const pod = pods.find((p) => p.status?.phase === "Running") ?? pods[0];
  if (!pod?.metadata?.name) {
    throw new AtriumError(
      "not-found",
      `no ${name} pod runs in namespace ${placement.namespace}`,
      "run atrium deploy",
    );
  }
  const container = LOG_CONTAINERS[name] ?? name;
  const out = new PassThrough();
  out.on("data", (chunk: Buffer) => options.write(chunk.toString("utf8")));
  const done = new Promise<void>((resolve) => out.on("end", () => resolve()));
  try {
    await new Log(conn.config).log(placement.namespace, pod.metadata.name, container, out, {
      follow: options.follow,
      tailLines: options.lines,
    });
  } catch (err) {
    throw clusterError(conn, `reading the log of pod ${pod.metadata.name}`, err);
  }
  await done;
}

/** The proxy's public address: a NodePort on a node's address, a load balancer's, or the ingress host. */
export async function publicAddress(
  conn: ClusterConnection,
  placement: KubernetesPlacement,
): Promise<string | undefined> {
  const { block, names, namespace } = placement;
  const scheme = block.https.mode === "none" ? "http" : "https";
  if (block.expose.type === "Ingress") return `${scheme}://${block.expose.host}`;
  const core = conn.config.makeApiClient(CoreV1Api);
  let service: V1Service;
  try {
    service = await core.readNamespacedService({ name: names.proxyPublic, namespace });
  } catch {
    return undefined;
  }
  if (block.expose.type === "LoadBalancer") {
    const ingress = service.status?.loadBalancer?.ingress?.[0];
    const host = ingress?.hostname ?? ingress?.ip;
    return host ? `${scheme}://${host}` : undefined;
  }
  const port = service.spec?.ports?.find((p) => p.nodePort)?.nodePort;
  let nodes: V1Node[] = [];
  try {
    nodes = (await core.listNode()).items;
  } catch {
    return undefined;
  }
  const address =
    nodes[0]?.status?.addresses?.find((a) => a.type === "ExternalIP")?.address ??
    nodes[0]?.status?.addresses?.find((a) => a.type === "InternalIP")?.address;
  return address && port ? `${scheme}://${address}:${port}` : undefined;
}
