/**
 * A stand-in for a machine on the uplink: a network namespace joined to the host by a veth pair,
 * routing back through the host (so it would answer pods if the host forwarded their packets),
 * with a TCP server that accepts and closes. Everything is removed by `stop`.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";

export interface UplinkPeer {
  address: string;
  port: number;
  stop(): void;
}

const HOST_SIDE = "198.51.100.1";
const PEER_SIDE = "198.51.100.2";
const SERVER = `
import socket, sys
s = socket.socket()
s.bind(("0.0.0.0", 0))
s.listen(16)
print(s.getsockname()[1], flush=True)
while True:
    s.accept()[0].close()
`;

function ip(...args: string[]): void {
  execFileSync("ip", args, { stdio: ["ignore", "ignore", "inherit"] });
}

export async function startUplinkPeer(): Promise<UplinkPeer> {
  const id = randomBytes(3).toString("hex");
  const netns = `atrium-ct-peer-${id}`;
  const link = `actp${id}`;
  let server: ChildProcess | undefined;
  const stop = () => {
    server?.kill("SIGKILL");
    try {
      ip("netns", "del", netns);
    } catch {
      // not made yet
    }
  };
  try {
    ip("netns", "add", netns);
    ip("link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", netns);
    ip("addr", "add", `${HOST_SIDE}/30`, "dev", link);
    ip("link", "set", link, "up");
    ip("-n", netns, "addr", "add", `${PEER_SIDE}/30`, "dev", "eth0");
    ip("-n", netns, "link", "set", "eth0", "up");
    ip("-n", netns, "link", "set", "lo", "up");
    ip("-n", netns, "route", "add", "default", "via", HOST_SIDE);
    const child = spawn("ip", ["netns", "exec", netns, "/usr/bin/python3", "-c", SERVER], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    server = child;
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout?.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
      child.once("exit", (code) => reject(new Error(`the uplink peer's server exited (${code})`)));
    });
    return { address: PEER_SIDE, port, stop };
  } catch (err) {
    stop();
    throw err;
  }
}
