/**
 * The access matrix's bookkeeping: every case is a row (surface, who, action,
 * expected, got); a surface prints its rows and fails listing each row that is not
 * as expected, so one run shows the whole matrix, not just the first wrong cell.
 *
 * Outcomes: over HTTP, 2xx works and 401/403/404 or a redirect (to log in) is a
 * refusal; on disk, exit 0 works and "Permission denied" is a refusal. Anything
 * else (a 500, a missing file) is an error, which never counts as a refusal.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import type { Ran } from "./checks.js";
import type { HttpResult } from "./harness.js";
import { SSH_BY_PASSWORD, SSH_QUIET } from "./ssh-options.js";

export type Expect = "allowed" | "denied";
export type Got = Expect | "error";

interface Row {
  who: string;
  action: string;
  expected: Expect;
  got: Got;
  detail: string;
}

export function httpOutcome(status: number): Got {
  if (status >= 200 && status < 300) return "allowed";
  if ([301, 302, 303, 307, 401, 403, 404].includes(status)) return "denied";
  return "error";
}

export function shellOutcome(r: Ran): Got {
  if (r.code === 0) return "allowed";
  return /Permission denied|Operation not permitted/i.test(r.stderr) ? "denied" : "error";
}

function outcome(r: HttpResult | Ran): { got: Got; detail: string } {
  if ("status" in r) {
    const where = r.headers.get("location");
    return { got: httpOutcome(r.status), detail: `${r.status}${where ? ` -> ${where.slice(0, 80)}` : ""}` };
  }
  return { got: shellOutcome(r), detail: r.code === 0 ? "exit 0" : (r.stderr.trim().split("\n")[0] ?? "") };
}

/** The rows of one surface; `done()` prints them and asserts. */
export class Surface {
  private readonly rows: Row[] = [];

  constructor(readonly name: string) {}

  /** A case whose outcome the caller worked out. */
  fact(who: string, action: string, expected: Expect, got: Got, detail = ""): void {
    this.rows.push({ who, action, expected, got, detail });
  }

  allow(who: string, action: string, r: HttpResult | Ran): void {
    const o = outcome(r);
    this.fact(who, action, "allowed", o.got, o.detail);
  }

  deny(who: string, action: string, r: HttpResult | Ran): void {
    const o = outcome(r);
    this.fact(who, action, "denied", o.got, o.detail);
  }

  done(): void {
    assert.ok(this.rows.length > 0, `no cases were tried for ${this.name}`);
    const line = (r: Row) =>
      `#   ${r.got === r.expected ? "ok " : "BAD"} ${r.who.padEnd(6)} ${r.action} -> ${r.got}${r.detail ? ` (${r.detail})` : ""}`;
    process.stdout.write(`# ${this.name}\n${this.rows.map(line).join("\n")}\n`);
    const bad = this.rows.filter((r) => r.got !== r.expected);
    assert.deepEqual(
      bad.map((r) => `${r.who}: ${r.action}: expected ${r.expected}, got ${r.got} (${r.detail})`),
      [],
      `${this.name}: ${bad.length} case(s) not as expected`,
    );
  }
}

/** Local TCP ports `pid` listens on (from ss). */
export function listeningPorts(pid: number): number[] {
  return execFileSync("ss", ["-Hltnp"], { encoding: "utf8" })
    .split("\n")
    .filter((l) => l.includes(`pid=${pid},`))
    .map((l) => Number(l.trim().split(/\s+/)[3]?.split(":").pop()))
    .filter((n) => Number.isInteger(n) && n > 0);
}

/** OpenSSH client options for logging in with a token as the password, non-interactively. */
export const SSH_BY_TOKEN = [...SSH_QUIET, ...SSH_BY_PASSWORD];
