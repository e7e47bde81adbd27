/**
 * A stand-in for a machine on the uplink: a TCP server (accepts and closes) in a network namespace
 * of its own, joined to the host by a veth pair and routing back through the host, so it would
 * answer pods if the host forwarded their packets. The namespace lives as long as the server
 * (`unshare`, not `ip netns add`, which would make /run/netns a mount point for good); `stop`
 * kills it, and the namespace and veth pair go with it.
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
  const link = `actp${randomBytes(3).toString("hex")}`;
  const server: ChildProcess = spawn("unshare", ["--net", "/usr/bin/python3", "-c", SERVER], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const stop = () => {
    server.kill("SIGKILL");
    try {
      ip("link", "del", link);
    } catch {
      // gone with the namespace
    }
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      server.stdout?.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
      server.once("exit", (code) => reject(new Error(`the uplink peer's server exited (${code})`)));
    });
    const pid = String(server.pid);
    const inPeer = (...args: string[]) => execFileSync("nsenter", ["-t", pid, "-n", "ip", ...args]);
    ip("link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", pid);
    ip("addr", "add", `${HOST_SIDE}/30`, "dev", link);
    ip("link", "set", link, "up");
    inPeer("addr", "add", `${PEER_SIDE}/30`, "dev", "eth0");
    inPeer("link", "set", "eth0", "up");
    inPeer("link", "set", "lo", "up");
    inPeer("route", "add", "default", "via", HOST_SIDE);
    return { address: PEER_SIDE, port, stop };
  } catch (err) {
    stop();
    throw err;
  }
}
