/**
 * Status's SSH lines on the cluster: the gateway (ready or not, and the port people
 * connect to), then each user's open sessions as the gateway keeps them in its status
 * ConfigMap. The lines are pure; reading the two objects is the one step that asks
 * the cluster.
 */
import { CoreV1Api } from "@kubernetes/client-node";
import { KUBE_SSH_STATUS_KEY } from "../../../contracts/kube-ssh-service.js";
import { type SshGatewayStatus, sshGatewayStatus } from "../../../contracts/ssh-service.js";
import type { KubernetesPlacement } from "../placement.js";
import { SSH_COMPONENT } from "../ssh-gateway.js";
import type { ClusterConnection } from "./connection.js";

export interface SshPod {
  part: string;
  phase: string;
  ready: boolean;
}

export interface SshSeen {
  /** The port people connect to (the node port or the load balancer's), when known. */
  port: number | undefined;
  status: SshGatewayStatus | undefined;
}

export function sshStatusLines(pods: readonly SshPod[], seen: SshSeen): string[] {
  const gateway = pods.filter((p) => p.part === SSH_COMPONENT);
  const word = gateway.some((p) => p.ready)
    ? `ready${seen.port === undefined ? "" : `, port ${seen.port}`}`
    : gateway.length === 0
      ? "not running"
      : `not ready (${gateway.map((p) => p.phase).join(", ")})`;
  const sessions = seen.status?.sessions ?? [];
  const byUser = new Map<string, string[]>();
  for (const s of sessions) {
    const list = byUser.get(s.user) ?? [];
    list.push(`${s.kind} from ${s.from} since ${s.since}`);
    byUser.set(s.user, list);
  }
  return [
    `SSH gateway: ${word}`,
    `SSH sessions: ${sessions.length}`,
    ...[...byUser.keys()]
      .sort()
      .flatMap((user) => (byUser.get(user) ?? []).map((what) => `  ${user}: ${what}`)),
  ];
}

export async function readSshSeen(conn: ClusterConnection, placement: KubernetesPlacement): Promise<SshSeen> {
  const core = conn.config.makeApiClient(CoreV1Api);
  const { namespace, names } = placement;
  let port: number | undefined;
  let status: SshGatewayStatus | undefined;
  try {
    const service = await core.readNamespacedService({ name: names.sshGateway, namespace });
    const p = service.spec?.ports?.[0];
    port = service.spec?.type === "NodePort" ? p?.nodePort : p?.port;
  } catch {
    // not made yet
  }
  try {
    const cm = await core.readNamespacedConfigMap({ name: names.sshStatus, namespace });
    const text = cm.data?.[KUBE_SSH_STATUS_KEY];
    const parsed = text === undefined ? undefined : sshGatewayStatus.safeParse(JSON.parse(text));
    status = parsed?.success ? parsed.data : undefined;
  } catch {
    // no status written yet
  }
  return { port, status };
}
