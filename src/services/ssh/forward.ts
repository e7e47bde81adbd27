/**
 * Local port forwarding (`ssh -L`, VS Code's connection to its server): a
 * direct-tcpip channel is opened only to a port on localhost where a socket of the
 * user's own uid listens, so one user can never reach another user's Jupyter
 * server, kernel or VS Code server through the gateway. The owner is checked
 * before connecting and again on the accepted connection itself, which closes the
 * window in which the port could change hands.
 */
import { connect, type Socket } from "node:net";
import type { AcceptConnection, RejectConnection, ServerChannel, TcpipRequestInfo } from "ssh2";
import type { Account } from "./accounts.js";
import { decideForward, peerOwner, readSockets } from "./proc-net.js";

export interface ForwardHost {
  account: Account;
  client: { address: string };
  track(kind: string): () => void;
  log(line: string): void;
}

function connected(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port });
    sock.once("connect", () => resolve(sock));
    sock.once("error", reject);
  });
}

async function ownerOfConnection(port: number, sock: Socket): Promise<number | undefined> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const uid = peerOwner(port, sock.localPort ?? -1, readSockets());
    if (uid !== undefined) return uid;
    await new Promise((r) => setTimeout(r, 10));
  }
  return undefined;
}

export async function handleForward(
  accept: AcceptConnection<ServerChannel>,
  reject: RejectConnection,
  info: TcpipRequestInfo,
  host: ForwardHost,
): Promise<void> {
  const { account } = host;
  const where = `${info.destIP}:${info.destPort}`;
  const decision = decideForward(info.destIP, info.destPort, account.uid, readSockets());
  if (!decision.allow) {
    host.log(`${account.name} from ${host.client.address}: forward to ${where} refused: ${decision.reason}`);
    return reject();
  }
  let sock: Socket;
  try {
    sock = await connected(decision.host, info.destPort);
  } catch (err) {
    host.log(`${account.name}: forward to ${where} failed: ${(err as Error).message}`);
    return reject();
  }
  const owner = await ownerOfConnection(info.destPort, sock);
  if (owner !== account.uid) {
    sock.destroy();
    host.log(
      `${account.name} from ${host.client.address}: forward to ${where} refused: the port changed hands`,
    );
    return reject();
  }
  const channel = accept() as ServerChannel | undefined;
  if (!channel) return void sock.destroy();
  const untrack = host.track("forward");
  sock.setNoDelay(true);
  // Each side's end reaches the other through the pipes; the channel closes once its data is sent.
  channel.pipe(sock).pipe(channel);
  // ssh2 reports a channel closed only once its incoming data was read to the end:
  // when the socket goes first, the rest is discarded.
  sock.on("close", () => channel.resume());
  sock.on("error", () => channel.destroy());
  channel.on("error", () => sock.destroy());
  channel.on("close", () => {
    untrack();
    sock.destroy();
  });
}
