/**
 * Which local TCP sockets a user owns, read from /proc/net/tcp and /proc/net/tcp6,
 * and the rule for local port forwarding: a forward to localhost reaches only a
 * socket listening there that belongs to the user's uid. The parsing and the rule
 * are pure; only `readSockets` touches /proc.
 */
import { readFileSync } from "node:fs";

export const TCP_LISTEN = 0x0a;
export const TCP_ESTABLISHED = 0x01;

export interface SocketEntry {
  family: 4 | 6;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  state: number;
  uid: number;
}

/** Bytes of one /proc/net address, which the kernel prints as 32-bit words in host (little-endian) order. */
function addressBytes(hex: string): number[] {
  const bytes: number[] = [];
  for (let w = 0; w < hex.length; w += 8) {
    const word = hex.slice(w, w + 8);
    for (let b = 6; b >= 0; b -= 2) bytes.push(Number.parseInt(word.slice(b, b + 2), 16));
  }
  return bytes;
}

/** Canonical IPv6 text (RFC 5952): lower case, longest zero run as "::", v4-mapped as ::ffff:a.b.c.d. */
export function formatIpv6(bytes: number[]): string {
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return `::ffff:${bytes.slice(12).join(".")}`;
  }
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLen).join(":")}`;
}

function parseEndpoint(text: string, family: 4 | 6): { address: string; port: number } | undefined {
  const [hex, port] = text.split(":");
  if (!hex || !port || hex.length !== (family === 4 ? 8 : 32)) return undefined;
  const bytes = addressBytes(hex);
  return {
    address: family === 4 ? bytes.join(".") : formatIpv6(bytes),
    port: Number.parseInt(port, 16),
  };
}

/** Parse the text of /proc/net/tcp (family 4) or /proc/net/tcp6 (family 6). */
export function parseProcNetTcp(text: string, family: 4 | 6): SocketEntry[] {
  const out: SocketEntry[] = [];
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const local = parseEndpoint(f[1] ?? "", family);
    const remote = parseEndpoint(f[2] ?? "", family);
    const state = Number.parseInt(f[3] ?? "", 16);
    const uid = Number(f[7]);
    if (!local || !remote || !Number.isInteger(state) || !Number.isInteger(uid)) continue;
    out.push({
      family,
      localAddress: local.address,
      localPort: local.port,
      remoteAddress: remote.address,
      remotePort: remote.port,
      state,
      uid,
    });
  }
  return out;
}

export function readSockets(): SocketEntry[] {
  const read = (file: string, family: 4 | 6) => {
    try {
      return parseProcNetTcp(readFileSync(file, "utf8"), family);
    } catch {
      return [];
    }
  };
  return [...read("/proc/net/tcp", 4), ...read("/proc/net/tcp6", 6)];
}

/** "::ffff:127.0.0.1" -> "127.0.0.1"; other addresses unchanged. */
export function unmapV4(address: string): string {
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}

/** The listening socket a connection to `address`:`port` would reach (the most specific bind wins). */
function listenerFor(address: "127.0.0.1" | "::1", port: number, sockets: SocketEntry[]) {
  const listening = sockets.filter((s) => s.state === TCP_LISTEN && s.localPort === port);
  const at = (family: 4 | 6, addr: string) =>
    listening.find((s) => s.family === family && s.localAddress === addr);
  if (address === "127.0.0.1") {
    // A v6 wildcard socket takes v4 connections too when no v4 socket has the port.
    return at(4, "127.0.0.1") ?? at(4, "0.0.0.0") ?? at(6, "::ffff:127.0.0.1") ?? at(6, "::");
  }
  return at(6, "::1") ?? at(6, "::");
}

export type ForwardDecision = { allow: true; host: "127.0.0.1" | "::1" } | { allow: false; reason: string };

/**
 * Whether `uid` may forward to `destination`:`port`: only loopback destinations,
 * and only when the socket listening there belongs to `uid`.
 */
export function decideForward(
  destination: string,
  port: number,
  uid: number,
  sockets: SocketEntry[],
): ForwardDecision {
  const dest = destination.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  const hosts: Array<"127.0.0.1" | "::1"> =
    dest === "localhost"
      ? ["127.0.0.1", "::1"]
      : dest === "127.0.0.1" || dest === "::ffff:127.0.0.1"
        ? ["127.0.0.1"]
        : dest === "::1"
          ? ["::1"]
          : [];
  if (hosts.length === 0) return { allow: false, reason: `${destination} is not localhost` };
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    return { allow: false, reason: `bad port ${port}` };
  let someoneElse = false;
  for (const host of hosts) {
    const l = listenerFor(host, port, sockets);
    if (l?.uid === uid) return { allow: true, host };
    if (l) someoneElse = true;
  }
  return {
    allow: false,
    reason: someoneElse ? `port ${port} belongs to another user` : `nothing listens on port ${port}`,
  };
}

/**
 * The uid of the socket that accepted our connection from `localPort` to
 * `port` (the server side of the connection inherits its listener's owner).
 */
export function peerOwner(port: number, localPort: number, sockets: SocketEntry[]): number | undefined {
  return sockets.find(
    (s) =>
      s.localPort === port &&
      s.remotePort === localPort &&
      s.state === TCP_ESTABLISHED &&
      /^(127\.|::1$)/.test(unmapV4(s.remoteAddress)),
  )?.uid;
}
