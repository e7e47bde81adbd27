/**
 * Checks shared by the reliability, security and load suites (crash-safety,
 * restarts, access-matrix) and bench/load.ts: running commands as a platform user,
 * reading the hub's database with the hub env's own Python, spawning and stopping
 * servers through the REST API, and finding a platform's processes.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { GiveUp, type HttpResult, http, type Platform, waitFor } from "./harness.js";

export interface ServerModel {
  ready: boolean;
  pending: string | null;
  url: string;
  state?: { pid?: number; atrium_socket?: { pinned?: string; path?: string } };
}

export interface UserModel {
  name: string;
  admin: boolean;
  groups: string[];
  servers?: Record<string, ServerModel>;
}

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Run `command` as `user`, with the user's uid, primary gid and supplementary
 * groups (setpriv --init-groups), the way their server or SSH session would.
 */
export function runAs(user: string, command: string[], input?: string): Ran {
  const r = spawnSync("setpriv", ["--reuid", user, "--regid", user, "--init-groups", "--", ...command], {
    cwd: "/",
    encoding: "utf8",
    input,
    timeout: 60_000,
    env: { PATH: "/usr/bin:/bin", LANG: "C.UTF-8" },
  });
  return { code: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/** A shell snippet run as `user`; `$1`, `$2`... are `args` (never interpolated into the script). */
export function shAs(user: string, script: string, ...args: string[]): Ran {
  return runAs(user, ["sh", "-c", script, "sh", ...args]);
}

export function readPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, "utf8"), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function pidFile(p: Platform, name: string): string {
  return join(p.dirs.state, "run", `${name}.pid`);
}

export function sha256(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

export function hubDbPath(p: Platform): string {
  return join(p.dirs.data, "hub", "jupyterhub.sqlite");
}

/** Python code run by the hub env's interpreter (the one the hub itself uses); stdout trimmed. */
export function hubPython(p: Platform, code: string, ...args: string[]): string {
  const python = join(p.dirs.prefix, "venvs", "hub", "bin", "python");
  const r = spawnSync(python, ["-c", code, ...args], { encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) throw new Error(`hub python exited ${r.status}: ${r.stderr}`);
  return r.stdout.trim();
}

/** The user names in the hub's database, sorted (read-only connection). */
export function hubDbUsers(p: Platform): string[] {
  const out = hubPython(
    p,
    [
      "import json, sqlite3, sys",
      "db = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True)",
      "print(json.dumps(sorted(r[0] for r in db.execute('select name from users'))))",
    ].join("\n"),
    hubDbPath(p),
  );
  return JSON.parse(out) as string[];
}

/** SQLite's own verdict on the hub database: "ok" when it is intact. */
export function hubDbIntegrity(p: Platform): string {
  return hubPython(
    p,
    [
      "import sqlite3, sys",
      "db = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True)",
      "print('\\n'.join(r[0] for r in db.execute('PRAGMA integrity_check')))",
    ].join("\n"),
    hubDbPath(p),
  );
}

export async function userModel(p: Platform, name: string, token?: string): Promise<UserModel> {
  const r = await p.hubApi(`/users/${name}`, token ? { token } : {});
  if (r.status !== 200) throw new Error(`GET /users/${name}: ${r.status} ${r.text}`);
  return r.json<UserModel>();
}

/** Start `user`'s default server with their token and wait until the hub says it is ready. */
export async function spawnServer(
  p: Platform,
  user: string,
  token: string,
  body: Record<string, unknown> = {},
  timeoutMs = 240_000,
): Promise<ServerModel> {
  const r = await p.hubApi(`/users/${user}/server`, { method: "POST", token, body });
  if (![201, 202].includes(r.status)) throw new Error(`spawning ${user}: ${r.status} ${r.text}`);
  return waitFor(
    `${user}'s server to be ready`,
    async () => {
      const s = (await userModel(p, user)).servers?.[""];
      // Accepted (201/202) but gone before it was ready: the hub gave the spawn up.
      if (!s) throw new GiveUp(`the hub gave up ${user}'s spawn (see its log: ${p.dirs.log}/hub.log)`);
      return s.ready ? s : undefined;
    },
    timeoutMs,
    500,
  );
}

export async function stopServer(
  p: Platform,
  user: string,
  token?: string,
  timeoutMs = 120_000,
): Promise<void> {
  const r = await p.hubApi(`/users/${user}/server`, { method: "DELETE", ...(token ? { token } : {}) });
  if (![202, 204].includes(r.status)) throw new Error(`stopping ${user}'s server: ${r.status} ${r.text}`);
  await waitFor(
    `${user}'s server to stop`,
    async () => (Object.keys((await userModel(p, user)).servers ?? {}).length === 0 ? true : undefined),
    timeoutMs,
    500,
  );
}

/** The server pid the hub's spawner recorded (admin view). */
export async function serverPid(p: Platform, user: string): Promise<number> {
  const pid = (await userModel(p, user)).servers?.[""]?.state?.pid;
  if (!pid) throw new Error(`no server pid recorded for ${user}`);
  return pid;
}

/** Pids whose command line (NUL-separated words joined by spaces) satisfies `test`. */
export function pidsWhere(test: (cmdline: string) => boolean): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ");
      if (cmdline !== "" && test(cmdline)) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** The process's parent pid, from /proc/<pid>/stat. */
export function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}

/** `pid` and all its descendants. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const parent = parentOf(Number(entry));
    if (parent === undefined) continue;
    children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
  }
  const out: number[] = [];
  const visit = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) visit(c);
  };
  visit(pid);
  return out;
}

/** Resident memory of one process in KiB (0 when it is gone). */
export function rssKiB(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/**
 * Every secret value the platform keeps, by a label: the files in the secrets
 * folder (public keys excepted; each hash in passwords.json on its own).
 */
export function secretValues(p: Platform): Map<string, string> {
  const dir = join(p.dirs.data, "secrets");
  const values = new Map<string, string>();
  for (const name of readdirSync(dir)) {
    if (name.endsWith(".pub") || name.includes(".tmp-")) continue;
    const text = readFileSync(join(dir, name), "utf8").trim();
    if (name === "passwords.json") {
      for (const [user, hash] of Object.entries(JSON.parse(text) as Record<string, string>)) {
        values.set(`password hash of ${user}`, hash);
      }
    } else if (text.includes("-----BEGIN")) {
      // A PEM or OpenSSH private key: a line from the middle of its body is the
      // secret part (the first line is a header every key of a kind shares).
      const body = text.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("-----"));
      const line = body[Math.floor(body.length / 2)]?.trim() ?? "";
      if (line.length >= 32) values.set(name, line);
    } else if (text.length >= 8) {
      values.set(name, text);
    }
  }
  return values;
}

/**
 * A browser-like client: keeps the cookies every answer sets (by name; paths are
 * ignored, which only ever sends a browser's cookies to more places, never fewer)
 * and follows redirects the way a browser navigation does.
 */
export class Browser {
  readonly jar = new Map<string, string>();

  constructor(private readonly base: string) {}

  cookie(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  private keep(setCookies: string[]): void {
    for (const line of setCookies) {
      const [pair, ...attrs] = line.split(";");
      const i = pair?.indexOf("=") ?? -1;
      if (!pair || i <= 0) continue;
      const name = pair.slice(0, i).trim();
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=.*1970/i.test(a));
      if (expired) this.jar.delete(name);
      else this.jar.set(name, pair.slice(i + 1).trim());
    }
  }

  /** One request, no redirects followed. */
  async request(
    path: string,
    init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {},
  ): Promise<HttpResult> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.jar.size > 0) headers.Cookie = this.cookie();
    let body: string | undefined;
    if (init.form) {
      headers["Content-Type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams(init.form).toString();
    }
    const url = path.startsWith("http") ? path : `${this.base}${path}`;
    const r = await http(url, { method: init.method ?? "GET", headers, body });
    this.keep(r.setCookies);
    return r;
  }

  /** Navigate to `path`, following up to 10 redirects; `url` is where it ended. */
  async navigate(path: string): Promise<HttpResult & { url: string; hops: string[] }> {
    let url = path.startsWith("http") ? path : `${this.base}${path}`;
    const hops: string[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await this.request(url);
      const location = r.headers.get("location");
      if (r.status < 300 || r.status >= 400 || !location) return { ...r, url, hops };
      url = new URL(location, url).toString();
      hops.push(url);
    }
    throw new Error(`more than 10 redirects from ${path}: ${hops.join(" -> ")}`);
  }

  /** Log in through the hub's form (as a person would); true when the hub accepted it. */
  async login(name: string, password: string): Promise<boolean> {
    const page = await this.request("/hub/login");
    if (page.status !== 200) throw new Error(`GET /hub/login answered ${page.status}`);
    const xsrf = this.jar.get("_xsrf") ?? /name="_xsrf" value="([^"]+)"/.exec(page.text)?.[1];
    if (!xsrf) throw new Error("no _xsrf token on the login page");
    const r = await this.request("/hub/login?next=", {
      method: "POST",
      form: { username: name, password, _xsrf: xsrf },
    });
    return r.status === 302 && !(r.headers.get("location") ?? "").includes("/hub/login");
  }
}
