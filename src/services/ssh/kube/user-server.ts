/**
 * The user's server pod, which their sessions and forwards run in: found by its
 * labels and checked to be theirs before every channel (the hub's username annotation,
 * and its server container running as their uid), and started through the hub when it
 * is not running, as a browser login would (the gateway's own hub token may start
 * servers, nothing more). Pods are made only by the hub and dask-gateway, never by a
 * user, so a pod that passes the check is the user's.
 */
import type { KubeSshServiceConfig, KubeSshUser } from "../../../contracts/kube-ssh-service.js";
import type { KubeApi } from "./in-cluster.js";

interface PodJson {
  metadata?: { name?: string; annotations?: Record<string, string>; deletionTimestamp?: string };
  spec?: {
    securityContext?: { runAsUser?: number };
    containers?: Array<{ name?: string; securityContext?: { runAsUser?: number } }>;
  };
  status?: { phase?: string; conditions?: Array<{ type?: string; status?: string }> };
}

const USERNAME = "hub.jupyter.org/username";
const SERVERNAME = "hub.jupyter.org/servername";
const COMPONENT = "app.kubernetes.io/component";

/** Why `pod` is not `user`'s running default server, or undefined when it is. */
export function notTheirs(pod: PodJson, user: KubeSshUser, container: string): string | undefined {
  const annotations = pod.metadata?.annotations ?? {};
  if (annotations[USERNAME] !== user.name) return "it is another user's";
  if ((annotations[SERVERNAME] ?? "") !== "") return "it is a named server";
  const box = pod.spec?.containers?.find((c) => c.name === container);
  if (!box) return `it has no ${container} container`;
  const uid = box.securityContext?.runAsUser ?? pod.spec?.securityContext?.runAsUser;
  if (uid !== user.uid) return `it runs as uid ${String(uid)}, not ${user.uid}`;
  if (pod.metadata?.deletionTimestamp) return "it is stopping";
  if (pod.status?.phase !== "Running") return `it is ${pod.status?.phase ?? "not running"}`;
  const ready = pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
  return ready ? undefined : "it is not ready";
}

/** The name of the user's running server pod, or undefined. */
export async function ownPod(
  api: KubeApi,
  config: KubeSshServiceConfig,
  user: KubeSshUser,
): Promise<string | undefined> {
  const selector = encodeURIComponent(`${COMPONENT}=${config.server_component}`);
  const list = (await api.getJson(
    `/api/v1/namespaces/${config.namespace}/pods?labelSelector=${selector}`,
  )) as {
    items?: PodJson[];
  };
  for (const pod of list.items ?? []) {
    if (notTheirs(pod, user, config.server_container) === undefined) return pod.metadata?.name;
  }
  return undefined;
}

/** Whether the pod `name` is still the user's running server (asked again before each channel). */
export async function stillTheirs(
  api: KubeApi,
  config: KubeSshServiceConfig,
  user: KubeSshUser,
  name: string,
): Promise<string | undefined> {
  try {
    const pod = (await api.getJson(`/api/v1/namespaces/${config.namespace}/pods/${name}`)) as PodJson;
    return notTheirs(pod, user, config.server_container);
  } catch (err) {
    return (err as Error).message;
  }
}

interface HubUserModel {
  servers?: Record<string, { ready?: boolean; pending?: string | null }>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The user's server pod, started through the hub when needed; `say` tells the client
 * what is happening while it waits. Throws with a reason a person can act on.
 */
export async function serverPod(
  api: KubeApi,
  config: KubeSshServiceConfig,
  user: KubeSshUser,
  hubToken: string,
  say: (line: string) => void,
): Promise<string> {
  const running = await ownPod(api, config, user);
  if (running) return running;
  const url = `${config.hub_api_url}/users/${encodeURIComponent(user.name)}`;
  const headers = { Authorization: `token ${hubToken}` };
  const started = await fetch(`${url}/server`, {
    method: "POST",
    headers,
    signal: AbortSignal.timeout(30_000),
  });
  // 201 started, 202 starting, 400 already running or pending
  if (![201, 202, 400].includes(started.status)) {
    const text = (await started.text()).slice(0, 300);
    throw new Error(`the hub did not start your server (${started.status}: ${text})`);
  }
  say("atrium: starting your server…\r\n");
  const deadline = Date.now() + config.start_timeout * 1000;
  let last = "";
  while (Date.now() < deadline) {
    await sleep(1000);
    const answer = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
    if (answer.status === 200) {
      const model = (await answer.json()) as HubUserModel;
      const server = model.servers?.[""];
      if (server?.ready) {
        const pod = await ownPod(api, config, user);
        if (pod) return pod;
      }
      const now = server ? (server.pending ?? "starting") : "not running";
      if (now !== last) say(`atrium: your server is ${now}…\r\n`);
      last = now;
      if (!server) throw new Error("your server did not start: see the hub's spawn page for why");
    }
  }
  throw new Error(`your server was not ready within ${config.start_timeout} s`);
}
