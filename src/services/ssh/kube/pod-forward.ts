/**
 * Local port forwarding (`ssh -L`, VS Code's connection to its server) on the
 * cluster: a direct-tcpip channel to a loopback address is carried to that port
 * inside the user's own server pod through the port-forward API, checked to be the
 * user's pod just before; any other destination (another pod, a Service, an address
 * outside) is refused, so one user never reaches another user's pod through the gateway.
 */
import type { AcceptConnection, RejectConnection, ServerChannel, TcpipRequestInfo } from "ssh2";
import type WebSocket from "ws";
import { frame, PORT_FORWARD_PROTOCOL, splitFrame } from "./channels.js";
import type { KubeApi } from "./in-cluster.js";

const LOOPBACK = new Set(["localhost", "127.0.0.1", "::1", "ip6-localhost"]);

export interface PodForwardHost {
  user: string;
  client: { address: string };
  /** The user's running server pod, checked to be theirs now; never started for a forward. */
  pod(): Promise<{ api: KubeApi; namespace: string; name: string } | { refused: string }>;
  track(kind: string): () => void;
  log(line: string): void;
}

export function forwardRefusal(destIP: string, destPort: number): string | undefined {
  if (!LOOPBACK.has(destIP.toLowerCase()) && !/^127\./.test(destIP)) {
    return "only ports inside your own server (localhost:PORT) can be forwarded";
  }
  if (!Number.isInteger(destPort) || destPort < 1 || destPort > 65535) return "not a port";
  return undefined;
}

export async function handlePodForward(
  accept: AcceptConnection<ServerChannel>,
  reject: RejectConnection,
  info: TcpipRequestInfo,
  host: PodForwardHost,
): Promise<void> {
  const where = `${info.destIP}:${info.destPort}`;
  const refusal = forwardRefusal(info.destIP, info.destPort);
  if (refusal) {
    host.log(`${host.user} from ${host.client.address}: forward to ${where} refused: ${refusal}`);
    return reject();
  }
  const pod = await host.pod();
  if ("refused" in pod) {
    host.log(`${host.user} from ${host.client.address}: forward to ${where} refused: ${pod.refused}`);
    return reject();
  }
  const ws: WebSocket = pod.api.socket(
    `/api/v1/namespaces/${pod.namespace}/pods/${pod.name}/portforward?ports=${info.destPort}`,
    PORT_FORWARD_PROTOCOL,
  );
  const opened = await new Promise<boolean>((resolve) => {
    ws.once("open", () => resolve(true));
    ws.once("error", () => resolve(false));
    ws.once("unexpected-response", () => resolve(false));
  });
  if (!opened) {
    host.log(`${host.user}: forward to ${where} in pod ${pod.name}: the API server refused`);
    ws.terminate();
    return reject();
  }
  const channel = accept() as ServerChannel | undefined;
  if (!channel) return void ws.terminate();
  const untrack = host.track("forward");
  // each channel's first message names the port; data follows on channel 0, errors on 1
  const seen = new Set<number>();
  ws.on("message", (message: Buffer) => {
    const f = splitFrame(message);
    if (!f) return;
    if (!seen.has(f.channel)) {
      seen.add(f.channel);
      return;
    }
    if (f.channel === 0) {
      if (!channel.write(f.data)) {
        ws.pause();
        channel.once("drain", () => ws.resume());
      }
    } else if (f.channel === 1 && f.data.length > 0) {
      host.log(
        `${host.user}: forward to ${where} in pod ${pod.name}: ${f.data.toString("utf8").slice(0, 200)}`,
      );
      channel.close();
    }
  });
  let waiting = 0;
  channel.on("data", (data: Buffer) => {
    waiting += data.length;
    if (waiting > 1 << 20) channel.pause();
    ws.send(frame(0, data), () => {
      waiting -= data.length;
      if (waiting <= 1 << 19) channel.resume();
    });
  });
  channel.on("end", () => ws.close());
  channel.on("error", () => ws.terminate());
  ws.on("error", () => channel.close());
  ws.on("close", () => {
    if (channel.writable) channel.end();
    channel.resume();
  });
  channel.on("close", () => {
    untrack();
    ws.terminate();
  });
}
