/**
 * End-to-end harness: one isolated platform per test file, deployed for real on
 * this machine as root.
 *
 * Every platform gets a random id that names its project, prefixes its Linux users
 * and groups, and names its temp root (/tmp/atrium-e2e-<id>), which holds every
 * target folder; all ports are found free by binding port 0. Cleanup is registered
 * before anything is created and always runs: it destroys the platform, kills what
 * is left, removes the prefixed accounts, the platform's cgroups and the temp root,
 * then checks that no prefixed account survived.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { request as httpRequest } from "node:http";
import { createServer, type Server } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";
import { FETCH_BLOCKED_PORTS } from "../../src/config/blocked-ports.js";

/** The repository root (dist/test/e2e/ or test/e2e/ are both below it). */
export const REPO = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) dir = dirname(dir);
  return dir;
})();

export const ATRIUM = join(REPO, "bin", "atrium.js");

/**
 * Atrium's pinned uv for the tests (scripts/ensure-uv.sh: the tools lock's uv in
 * /var/tmp/atrium-tools-<hash>, on /usr/bin/python3), never one from PATH.
 */
export function pinnedUv(): string {
  return execFileSync("bash", [join(REPO, "scripts", "ensure-uv.sh")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  }).trim();
}

/** uv's cache, shared by every e2e platform so that env builds only link files. */
export const SHARED_UV_CACHE = "/var/tmp/atrium-e2e-uv-cache";

/** uv's cache for the global namespace's environment builds, shared by every e2e platform. */
export const SHARED_BUILD_CACHE = "/var/tmp/atrium-e2e-uv-build-cache-global";

export interface Cleanup {
  after(fn: () => unknown): unknown;
}

/**
 * A cleanup scope for a describe block. node:test's `after` attaches to whatever
 * runs at the moment it is called (inside a `before` hook, to that hook), so the
 * suite registers one `after` while it is being defined and platforms made later
 * in `before` add to it. Cleanups run in reverse order of registration.
 */
export function suiteScope(register: (fn: () => unknown) => unknown): Cleanup {
  const fns: Array<() => unknown> = [];
  register(async () => {
    for (const fn of fns.reverse()) await fn();
  });
  return {
    after(fn) {
      fns.push(fn);
    },
  };
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall time in seconds. */
  seconds: number;
}

export interface HttpResult {
  status: number;
  text: string;
  headers: Headers;
  setCookies: string[];
  json<T = unknown>(): T;
}

export interface LoginResult {
  status: number;
  location: string | null;
  /** Cookie header value to send with later requests. */
  cookie: string;
}

export type ConfigObject = Record<string, unknown>;

export interface PlatformOptions {
  /** Extra config merged over the harness's base (target is filled in by the harness). */
  config?: ConfigObject | ((p: Naming) => ConfigObject);
  /** Link <prefix>/cache/uv to the shared uv cache before the first deploy (default true). */
  seedUvCache?: boolean;
  /** Folders put first on PATH for every atrium command of this platform (and so its supervisor). */
  pathFirst?: string[];
}

export interface Naming {
  id: string;
  /** `name("alice")` -> "<id>_alice": a Linux-safe name owned by this platform. */
  name(short: string): string;
}

export interface Platform extends Naming {
  project: string;
  root: string;
  configFile: string;
  config: ConfigObject;
  dirs: {
    prefix: string;
    data: string;
    state: string;
    log: string;
    shared: string;
    envs: string;
    home: string;
  };
  port: number;
  ports: Record<string, number>;
  url: string;
  /**
   * The environment every atrium command of this platform runs with: the machine-wide
   * links deploy makes (the command on PATH, the deployed file) are moved below
   * `root`, as several platforms deploy on one machine; `binDir` is on PATH.
   */
  env: NodeJS.ProcessEnv;
  /** Where deploy links the atrium command (ATRIUM_BIN_LINK) and the deployed file (ATRIUM_DEPLOYED_LINK). */
  links: { bin: string; deployed: string; binDir: string };
  /** Rewrite the config file from `config` (after the test changed it). */
  writeConfig(config?: ConfigObject): void;
  deploy(extraArgs?: string[]): Promise<CommandResult>;
  /** Start a deploy and return the child at once (for concurrency tests). */
  startDeploy(configFile?: string): { child: ChildProcess; done: Promise<CommandResult> };
  atrium(args: string[], input?: string): Promise<CommandResult>;
  adminToken(): string;
  hubApi(path: string, opts?: { method?: string; body?: unknown; token?: string }): Promise<HttpResult>;
  userToken(name: string): Promise<string>;
  login(name: string, password: string): Promise<LoginResult>;
  get(path: string, opts?: { cookie?: string; token?: string }): Promise<HttpResult>;
  setPassword(name: string, password: string): Promise<void>;
  /** Run the cleanup now (it also runs, once, at the end). */
  cleanup(): void;
}

function randomId(): string {
  const letters = "abcdefghijklmnopqrstuvwxyz";
  const bytes = randomBytes(4);
  return `e2e${[...bytes].map((b) => letters[b % letters.length]).join("")}`;
}

/** Below the kernel's ephemeral range (32768-60999), so no outgoing connection takes a port picked here. */
const TEST_PORTS = { from: 20_000, to: 32_000 };
/** Root services' ports, below 1024 as the defaults are (so only root can listen on them). */
const TEST_ROOT_PORTS = { from: 512, to: 1_023 };

function listenOn(port: number): Promise<Server | undefined> {
  return new Promise((ok) => {
    const s = createServer();
    s.once("error", () => ok(undefined));
    s.listen(port, "127.0.0.1", () => ok(s));
  });
}

/**
 * `count` distinct free TCP ports on 127.0.0.1 (all held open until every one is
 * found), picked at random below the ephemeral range: a port the system hands out
 * for bind(0) or a client connection could be taken between this pick and the
 * platform's own bind.
 */
export async function freePorts(count: number, range = TEST_PORTS): Promise<number[]> {
  const held: Server[] = [];
  const ports: number[] = [];
  for (let tries = 0; ports.length < count && tries < 1000; tries++) {
    const port = range.from + Math.floor(Math.random() * (range.to - range.from));
    if (ports.includes(port) || FETCH_BLOCKED_PORTS.has(port)) continue;
    const s = await listenOn(port);
    if (!s) continue;
    held.push(s);
    ports.push(port);
  }
  await Promise.all(held.map((s) => new Promise((ok) => s.close(ok))));
  if (ports.length < count) throw new Error(`found only ${ports.length} of ${count} free ports`);
  return ports;
}

export function runCommand(
  cmd: string,
  args: string[],
  opts: { input?: string; cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): { child: ChildProcess; done: Promise<CommandResult> } {
  const started = Date.now();
  const child = spawn(cmd, args, {
    cwd: opts.cwd ?? REPO,
    env: opts.env ?? process.env,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
  });
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  if (opts.input !== undefined) child.stdin?.end(opts.input);
  else child.stdin?.end();
  const timer =
    opts.timeoutMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs);
  const done = new Promise<CommandResult>((ok) => {
    child.on("close", (code) => {
      if (timer) clearTimeout(timer);
      ok({ code, stdout, stderr, seconds: (Date.now() - started) / 1000 });
    });
  });
  return { child, done };
}

/**
 * One HTTP request with node:http, as a plain client (a browser's form navigation
 * sends no Sec-Fetch-Mode either; fetch() would send "cors", and JupyterHub sets
 * its _xsrf cookie only on navigations). Redirects are not followed.
 */
export function http(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number } = {},
): Promise<HttpResult> {
  return new Promise((ok, fail) => {
    const req = httpRequest(
      url,
      { method: init.method ?? "GET", headers: init.headers ?? {}, timeout: init.timeoutMs ?? 60_000 },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          text += d;
        });
        res.on("end", () => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) {
            if (Array.isArray(v)) for (const one of v) headers.append(k, one);
            else if (v !== undefined) headers.set(k, v);
          }
          ok({
            status: res.statusCode ?? 0,
            text,
            headers,
            setCookies: res.headers["set-cookie"] ?? [],
            json<T>() {
              return JSON.parse(text) as T;
            },
          });
        });
        res.on("error", fail);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${init.method ?? "GET"} ${url} timed out`)));
    req.on("error", fail);
    req.end(init.body);
  });
}

export function cookiesOf(setCookies: string[]): Map<string, string> {
  const jar = new Map<string, string>();
  for (const line of setCookies) {
    const [pair] = line.split(";");
    const i = pair?.indexOf("=") ?? -1;
    if (pair && i > 0) jar.set(pair.slice(0, i).trim(), pair.slice(i + 1).trim());
  }
  return jar;
}

export function cookieHeader(jar: Map<string, string>): string {
  return [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
}

// --- cleanup ------------------------------------------------------------------

function quiet(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): { code: number | null; out: string } {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 120_000, env });
  return { code: r.status, out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

/** Names in /etc/passwd or /etc/group that start with `prefix`. */
export function namesWithPrefix(db: "/etc/passwd" | "/etc/group", prefix: string): string[] {
  return readFileSync(db, "utf8")
    .split("\n")
    .map((l) => l.split(":")[0] ?? "")
    .filter((n) => n.startsWith(prefix));
}

function uidsOf(names: string[]): Set<number> {
  const uids = new Set<number>();
  for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
    const f = line.split(":");
    if (f[0] && names.includes(f[0])) uids.add(Number(f[2]));
  }
  return uids;
}

/** Pids (other than ours and our ancestors) of these uids, or working or named below `root`. */
export function strayPids(root: string, uids: Set<number>): number[] {
  const keep = new Set<number>([process.pid, process.ppid]);
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || keep.has(pid)) continue;
    try {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
      let cwd = "";
      try {
        cwd = readlinkSync(`/proc/${pid}/cwd`);
      } catch {
        // a zombie or a kernel thread
      }
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
      if (uids.has(uid) || cwd === root || cwd.startsWith(`${root}/`) || cmdline.includes(`${root}/`)) {
        found.push(pid);
      }
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function killPids(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
}

/** Remove a v1 cgroup tree depth-first, killing its members first. */
function removeCgroupTree(dir: string): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) removeCgroupTree(join(dir, e.name));
  }
  for (let attempt = 0; attempt < 50; attempt++) {
    let members: number[] = [];
    try {
      members = readFileSync(join(dir, "cgroup.procs"), "utf8").split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return;
    }
    killPids(members);
    try {
      rmdirSync(dir);
      return;
    } catch {
      execFileSync("sleep", ["0.1"]);
    }
  }
}

function cleanupPlatform(p: {
  id: string;
  project: string;
  root: string;
  configFile: string;
  env: NodeJS.ProcessEnv;
  log: (s: string) => void;
}): void {
  const prefix = `${p.id}_`;
  if (existsSync(p.configFile)) {
    const r = quiet(process.execPath, [ATRIUM, "destroy", "--purge", "--yes", "-c", p.configFile], p.env);
    if (r.code !== 0) p.log(`cleanup: destroy --purge exited ${r.code}: ${r.out.trim()}`);
  }
  const users = namesWithPrefix("/etc/passwd", prefix);
  const uids = uidsOf(users);
  for (let round = 0; round < 3; round++) {
    const stray = strayPids(p.root, uids);
    if (stray.length === 0) break;
    killPids(stray);
    execFileSync("sleep", ["0.3"]);
  }
  for (const u of users) quiet("pkill", ["-KILL", "-u", u]);
  for (const u of users) quiet("userdel", ["-r", u]);
  for (const g of namesWithPrefix("/etc/group", prefix)) quiet("groupdel", [g]);
  for (const controller of ["memory", "cpu", "freezer", "pids"]) {
    removeCgroupTree(`/sys/fs/cgroup/${controller}/atrium/${p.project}`);
  }
  rmSync(p.root, { recursive: true, force: true });
  const left = namesWithPrefix("/etc/passwd", prefix);
  if (left.length > 0) throw new Error(`cleanup left users behind: ${left.join(", ")}`);
  const leftGroups = namesWithPrefix("/etc/group", prefix);
  if (leftGroups.length > 0) throw new Error(`cleanup left groups behind: ${leftGroups.join(", ")}`);
}

// --- the platform -----------------------------------------------------------------

/**
 * Link `<prefix>/cache/uv` (and with `build`, the global namespace's build cache
 * `env-builds/global`) to caches every e2e platform shares, so that envs are linked,
 * not downloaded again. Only the global namespace's build cache is shared: every other
 * namespace's is the platform's own, as on a real machine.
 */
export function seedUvCaches(prefix: string, opts: { build?: boolean } = {}): void {
  const links: Array<[string, string]> = [["uv", SHARED_UV_CACHE]];
  if (opts.build) links.push([join("env-builds", "global"), SHARED_BUILD_CACHE]);
  for (const [name, shared] of links) {
    mkdirSync(shared, { recursive: true });
    const link = join(prefix, "cache", name);
    mkdirSync(dirname(link), { recursive: true });
    if (!existsSync(link)) symlinkSync(shared, link);
  }
}

/**
 * An example of examples/ as a test platform: users and groups get the platform's
 * prefix (in profiles, environments' namespaces and memberships too); the target
 * block (paths, ports, HTTPS), the project's name and the SSH port are the harness's.
 */
export function exampleConfig(file: string, n: Naming): ConfigObject {
  const ex = parse(readFileSync(join(REPO, "examples", file), "utf8")) as ConfigObject;
  type Named = { name: string; groups?: string[]; namespace?: string };
  const groups = new Set(((ex.groups ?? []) as Named[]).map((g) => g.name));
  const rename = (name: string) => (groups.has(name) ? n.name(name) : name);
  const withGroups = (items: unknown) =>
    ((items ?? []) as Named[]).map((i) => ({ ...i, ...(i.groups ? { groups: i.groups.map(rename) } : {}) }));
  const {
    target: _target,
    project,
    ssh,
    ...rest
  } = ex as {
    target?: unknown;
    project?: ConfigObject;
    ssh?: ConfigObject;
  } & ConfigObject;
  const { name: _name, ...projectRest } = project ?? {};
  const { port: _port, ...sshRest } = ssh ?? {};
  return {
    ...rest,
    project: projectRest,
    ssh: sshRest,
    groups: ((ex.groups ?? []) as Named[]).map((g) => ({ ...g, name: n.name(g.name) })),
    users: withGroups(ex.users).map((u) => ({ ...u, name: n.name(u.name) })),
    profiles: withGroups(ex.profiles),
    environments: ((ex.environments ?? []) as Named[]).map((e) =>
      e.namespace ? { ...e, namespace: rename(e.namespace) } : e,
    ),
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function mergeConfig(base: ConfigObject, over: ConfigObject): ConfigObject {
  const out: ConfigObject = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isObject(b) && isObject(v) ? mergeConfig(b, v) : v;
  }
  return out;
}

export async function makePlatform(t: Cleanup, options: PlatformOptions = {}): Promise<Platform> {
  const id = randomId();
  const project = `at-${id}`;
  const root = `/tmp/atrium-e2e-${id}`;
  const naming: Naming = { id, name: (short) => `${id}_${short}` };
  const configFile = join(root, "atrium.yaml");
  const binDir = join(root, "system", "bin");
  const links = { bin: join(binDir, "atrium"), deployed: join(root, "system", "etc", "atrium.yaml"), binDir };
  // Read at each command, so that a variable a test sets later (a client secret) reaches it.
  const envNow = (): NodeJS.ProcessEnv => ({
    ...process.env,
    PATH: [...(options.pathFirst ?? []), binDir, process.env.PATH ?? "/usr/bin:/bin"].join(":"),
    ATRIUM_BIN_LINK: links.bin,
    ATRIUM_DEPLOYED_LINK: links.deployed,
  });
  let cleaned = false;
  const onSignal = () => {
    cleanup();
    process.exit(130);
  };
  const cleanup = () => {
    if (cleaned) return;
    cleaned = true;
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    cleanupPlatform({
      id,
      project,
      root,
      configFile,
      env: envNow(),
      log: (s) => process.stderr.write(`${s}\n`),
    });
  };
  t.after(cleanup);
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  mkdirSync(root, { recursive: true });
  // Users' servers must traverse the root to reach their homes and the envs.
  chmodSync(root, 0o755);
  const dirs = {
    prefix: join(root, "opt"),
    data: join(root, "data"),
    state: join(root, "state"),
    log: join(root, "log"),
    shared: join(root, "shared"),
    envs: join(root, "envs"),
    home: join(root, "home"),
  };
  const [port, ssh] = (await freePorts(2)) as [number, number];
  const [hub, proxyApi, envs, daskGateway, daskProxy, daskWeb] = (await freePorts(6, TEST_ROOT_PORTS)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const ports = {
    hub,
    proxy_api: proxyApi,
    envs,
    dask_gateway: daskGateway,
    dask_scheduler_proxy: daskProxy,
    dask_gateway_web: daskWeb,
  };
  const base: ConfigObject = {
    project: { name: project, title: `Atrium e2e ${id}` },
    target: {
      type: "local",
      prefix: dirs.prefix,
      data_dir: dirs.data,
      state_dir: dirs.state,
      log_dir: dirs.log,
      shared_dir: dirs.shared,
      envs_dir: dirs.envs,
      home_dir: dirs.home,
      address: "127.0.0.1",
      port,
      ports,
    },
    ssh: { port: ssh },
  };
  const extra = typeof options.config === "function" ? options.config(naming) : (options.config ?? {});
  const url = `http://127.0.0.1:${port}`;

  if (options.seedUvCache !== false) seedUvCaches(dirs.prefix);

  const platform: Platform = {
    ...naming,
    project,
    root,
    configFile,
    config: mergeConfig(base, extra),
    get env() {
      return envNow();
    },
    links,
    dirs,
    port,
    ports,
    url,
    writeConfig(config) {
      if (config) platform.config = config;
      writeFileSync(configFile, stringify(platform.config));
    },
    deploy(extraArgs = []) {
      return runCommand(process.execPath, [ATRIUM, "deploy", "-c", configFile, ...extraArgs], {
        timeoutMs: 900_000,
        env: envNow(),
      }).done;
    },
    startDeploy(file = configFile) {
      return runCommand(process.execPath, [ATRIUM, "deploy", "-c", file], {
        timeoutMs: 900_000,
        env: envNow(),
      });
    },
    atrium(args, input) {
      return runCommand(process.execPath, [ATRIUM, ...args], { input, timeoutMs: 300_000, env: envNow() })
        .done;
    },
    adminToken() {
      return readFileSync(join(dirs.data, "secrets", "atrium_api_token"), "utf8").trim();
    },
    hubApi(path, opts = {}) {
      const headers: Record<string, string> = {
        Authorization: `token ${opts.token ?? platform.adminToken()}`,
      };
      if (opts.body !== undefined) headers["Content-Type"] = "application/json";
      return http(`${url}/hub/api${path}`, {
        method: opts.method ?? "GET",
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      });
    },
    async userToken(name) {
      const r = await platform.hubApi(`/users/${name}/tokens`, {
        method: "POST",
        body: { note: "e2e test", expires_in: 7200 },
      });
      if (r.status !== 201 && r.status !== 200) throw new Error(`token for ${name}: ${r.status} ${r.text}`);
      return r.json<{ token: string }>().token;
    },
    async login(name, password) {
      const page = await http(`${url}/hub/login`);
      if (page.status !== 200) throw new Error(`GET /hub/login answered ${page.status}`);
      const jar = cookiesOf(page.setCookies);
      const xsrf = jar.get("_xsrf");
      if (!xsrf) throw new Error("no _xsrf cookie on the login page");
      const res = await http(`${url}/hub/login?next=`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Cookie: cookieHeader(jar) },
        body: new URLSearchParams({ username: name, password, _xsrf: xsrf }).toString(),
      });
      for (const [k, v] of cookiesOf(res.setCookies)) jar.set(k, v);
      return { status: res.status, location: res.headers.get("location"), cookie: cookieHeader(jar) };
    },
    get(path, opts = {}) {
      const headers: Record<string, string> = {};
      if (opts.cookie) headers.Cookie = opts.cookie;
      if (opts.token) headers.Authorization = `token ${opts.token}`;
      return http(`${url}${path}`, { headers });
    },
    async setPassword(name, password) {
      const r = await platform.atrium(["passwd", name, "-c", configFile], `${password}\n`);
      if (r.code !== 0) throw new Error(`atrium passwd ${name} exited ${r.code}: ${r.stdout}${r.stderr}`);
    },
    cleanup,
  };
  platform.writeConfig();
  return platform;
}

// --- small helpers shared by the tests ----------------------------------------------

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Thrown by a waitFor callback to stop waiting at once. */
export class GiveUp extends Error {}

/** Poll `fn` until it returns a value other than undefined, or fail with `what`. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  everyMs = 500,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      if (err instanceof GiveUp) throw err;
      lastError = err;
    }
    if (Date.now() > until) {
      throw new Error(
        `timed out after ${timeoutMs / 1000}s waiting for ${what}${lastError ? `: ${String(lastError)}` : ""}`,
      );
    }
    await sleep(everyMs);
  }
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function getent(db: "passwd" | "group", name: string): string | undefined {
  const r = spawnSync("getent", [db, name], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

export function idOf(name: string, flag: "-u" | "-g" | "-Gn"): string {
  return execFileSync("id", [flag, name], { encoding: "utf8" }).trim();
}

/** Component names whose done line says "<name> created|updated|deleted in Ns". */
export function appliedComponents(deployOutput: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of deployOutput.matchAll(/^ {2}(\S+)\s+(created|updated|replaced|deleted) in [\d.]+s/gm)) {
    out.set(m[1] as string, m[2] as string);
  }
  return out;
}

/** Start a user's default server through the REST API with their own token and wait until it is ready. */
export async function spawnServer(p: Platform, user: string, token: string | undefined): Promise<void> {
  const r = await p.hubApi(`/users/${user}/server`, { method: "POST", body: {}, token });
  if (![201, 202].includes(r.status)) throw new Error(`spawning ${user}: ${r.status} ${r.text}`);
  await waitFor(
    `${user}'s server`,
    async () => {
      const m = await p.hubApi(`/users/${user}`);
      return m.json<{ servers?: Record<string, { ready: boolean }> }>().servers?.[""]?.ready
        ? true
        : undefined;
    },
    240_000,
    1000,
  );
}
