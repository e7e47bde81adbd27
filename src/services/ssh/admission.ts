/**
 * What both SSH gateways (one machine's and a cluster's) do with a new connection
 * before it logs in: at most a few unauthenticated connections per address, no
 * Nagle delay, and an end to a login that takes too long. `admit` returns undefined
 * when the connection was closed; else `settled()`, called once it logged in (or
 * closed), frees its place.
 */
import type { Connection } from "ssh2";
import type { SshServiceConfig } from "../../contracts/ssh-service.js";
import { LoginThrottle } from "./rate-limit.js";

/** Unauthenticated connections one address may hold at once. */
const MAX_PENDING_PER_SOURCE = 16;

export function throttleFor(auth: SshServiceConfig["auth"]): LoginThrottle {
  return new LoginThrottle({
    freeFailures: auth.free_failures,
    baseDelayMs: auth.base_delay_ms,
    maxDelayMs: auth.max_delay_ms,
    forgetAfterMs: 15 * 60_000,
  });
}

export class Admission {
  private readonly pending = new Map<string, number>();

  constructor(private readonly log: (line: string) => void) {}

  admit(client: Connection, source: string, loginTimeoutSeconds: number): { settled(): void } | undefined {
    const waiting = (this.pending.get(source) ?? 0) + 1;
    if (waiting > MAX_PENDING_PER_SOURCE) {
      this.log(`too many unauthenticated connections from ${source}; closing one`);
      client.end();
      return undefined;
    }
    this.pending.set(source, waiting);
    // Without this, Nagle's algorithm and delayed ACKs leave the link idle between packets.
    (client as Connection & { setNoDelay(on: boolean): void }).setNoDelay(true);
    let settled = false;
    const timer = setTimeout(() => {
      if (!settled) client.end();
    }, loginTimeoutSeconds * 1000);
    const settle = () => {
      clearTimeout(timer);
      if (settled) return;
      settled = true;
      const n = (this.pending.get(source) ?? 1) - 1;
      if (n <= 0) this.pending.delete(source);
      else this.pending.set(source, n);
    };
    client.on("close", settle);
    return { settled: settle };
  }
}
