/**
 * One environment build with uv, on the system Python:
 *   1. resolve: `uv pip compile` -> a lock with hashes (stored with the build);
 *   2. create: `uv venv`;
 *   3. install: `uv pip sync` of exactly that lock, from wheels only;
 *   4. hand the env to root (chown -R -h, no setuid bits, nothing writable by others).
 * The environment is usable from here on; then
 *   5. compile bytecode, as root, with the system Python in isolated mode (`-I -S`:
 *      no site, no .pth files), leaving packages' test folders to compile on use;
 *      not at all when site-packages holds a symlink (compileall follows them).
 *
 * Must stay true: every step up to 4 runs as the unprivileged build account, in the
 * build's own cgroup (build-cgroup.ts), joined before the account switch, and every
 * process in it is killed when a step ends and when the build ends, is canceled or
 * times out; no code from a package runs during a build: uv is told wheels only on
 * its command line and in its environment (`--only-binary :all:`, UV_NO_BUILD), reads
 * no config file (UV_NO_CONFIG), and gets each requirement re-parsed and re-written
 * here, one per line, so no line of the requirements file can be an option. Only
 * the packages the file's admin named (`environment_builds.allow_source`) are built
 * from source. Each namespace has its own uv cache, so nothing one namespace's build
 * wrote is read by another's; the lock is written by root from uv's output.
 */
import { execFile, spawn } from "node:child_process";
import { chownSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { formatRequirement, parseRequirement } from "../../requirements/pep508.js";
import { findSetpriv, userCommand } from "../ssh/launch.js";
import { BuildCgroup, type BuildCgroupPlace, cgroupsMissing } from "./build-cgroup.js";

const exec = promisify(execFile);

export interface BuildAccount {
  name: string;
  uid: number;
  gid: number;
}

export interface BuildInputs {
  /** The build's root-owned folder; env/ is made inside it. */
  dir: string;
  requirements: readonly string[];
  constraints: readonly string[];
  uv: string;
  python: string;
  /** This namespace's own uv cache, owned by the build account. */
  cacheDir: string;
  account: BuildAccount;
  /** Packages uv may build from source (the file's environment_builds.allow_source). */
  allowSource?: readonly string[];
  /** Where the build's own cgroup is made, and its name there. */
  cgroup?: BuildCgroupPlace & { name: string };
  /** Proxy and TLS settings passed on to uv. */
  passEnv: NodeJS.ProcessEnv;
  /** Appends text to the build log (live). */
  log: (text: string) => void;
  /** Told the process group of each step, so a restarted service can stop it. */
  onProcessGroup?: (pgid: number | null) => void;
  signal: AbortSignal;
}

export interface BuildOutput {
  lock: string;
  packages: string[];
  size: number;
}

/** An expected failure; its message becomes the build's status_info. */
export class BuildFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BuildFailure";
  }
}

const PASS_ENV =
  /^(https?_proxy|no_proxy|all_proxy|ssl_cert_file|ssl_cert_dir|uv_index_url|uv_extra_index_url|uv_index|uv_default_index)$/i;

/** The environment a build step runs with: no secrets, no config files, never a downloaded Python. */
export function buildEnv(
  passEnv: NodeJS.ProcessEnv,
  cacheDir: string,
  allowSource: readonly string[] = [],
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(passEnv)) if (v !== undefined && PASS_ENV.test(k)) env[k] = v;
  return {
    ...env,
    PATH: "/usr/local/bin:/usr/bin:/bin",
    LANG: "C.UTF-8",
    HOME: cacheDir,
    UV_CACHE_DIR: cacheDir,
    UV_PYTHON_DOWNLOADS: "never",
    UV_NO_PROGRESS: "1",
    // No uv.toml, pyproject.toml or user config (HOME is the cache) changes a build.
    UV_NO_CONFIG: "1",
    // Wheels only, also for anything the command line doesn't cover.
    ...(allowSource.length === 0 ? { UV_NO_BUILD: "1" } : {}),
    // The machine's certificate store, which is where admins put their proxy's CA.
    UV_SYSTEM_CERTS: "1",
  };
}

interface StepResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function stamp(): string {
  return new Date().toISOString().slice(11, 19);
}

type StepInputs = Pick<
  BuildInputs,
  "dir" | "passEnv" | "cacheDir" | "log" | "signal" | "onProcessGroup" | "allowSource"
> & {
  /** undefined: as root, for steps on files already handed to root. */
  account: BuildAccount | undefined;
  group?: BuildCgroup | undefined;
};

/**
 * Run one step in a new process group; output goes to the log. As the build account,
 * the step's first process joins the build's cgroup while still root, then becomes
 * the account (setpriv); whatever the step left running is killed when it ends.
 */
function runStep(
  inp: StepInputs,
  cmd: string,
  args: string[],
  opts: { stdoutToLog: boolean },
): Promise<StepResult> {
  return new Promise((resolve, reject) => {
    if (inp.signal.aborted) {
      reject(new BuildFailure(stopMessage(inp.signal)));
      return;
    }
    const run = inp.account
      ? userCommand(findSetpriv(), inp.account, [cmd, ...args], inp.group?.procsFiles ?? [])
      : { command: cmd, args };
    const child = spawn(run.command, run.args, {
      cwd: inp.dir,
      env: buildEnv(inp.passEnv, inp.cacheDir, inp.allowSource),
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
      if (opts.stdoutToLog) inp.log(d);
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
      inp.log(d);
    });
    const kill = () => {
      if (child.pid) {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      inp.group?.kill().catch((err: unknown) => inp.log(`${(err as Error).message}\n`));
    };
    inp.signal.addEventListener("abort", kill, { once: true });
    if (child.pid) inp.onProcessGroup?.(child.pid);
    child.on("error", (err) => {
      inp.signal.removeEventListener("abort", kill);
      reject(new BuildFailure(`can't run ${cmd}: ${err.message}`));
    });
    child.on("close", (code) => {
      inp.signal.removeEventListener("abort", kill);
      inp.onProcessGroup?.(null);
      const ended = inp.group ? inp.group.kill() : Promise.resolve(0);
      ended.then(
        (left) => {
          if (left > 0) inp.log(`[${stamp()}] ended ${left} process(es) the step left running\n`);
          if (inp.signal.aborted) reject(new BuildFailure(stopMessage(inp.signal)));
          else resolve({ code, stdout, stderr });
        },
        (err: unknown) => reject(new BuildFailure((err as Error).message)),
      );
    });
  });
}

export function stopMessage(signal: AbortSignal): string {
  if (signal.reason === "timeout") return "stopped: the build took longer than the time limit";
  if (signal.reason === "shutdown") return "interrupted: the environment service stopped; build again";
  return "canceled";
}

/** A person's reading of uv's resolution error. */
export function explainResolution(stderr: string): string {
  const missing = /Because ([A-Za-z0-9._-]+) was not found in the package registry/.exec(stderr);
  if (missing) {
    return (
      `"${missing[1]}" was not found on PyPI; if it is a conda package, it needs a conda backend, ` +
      "which Atrium does not provide yet"
    );
  }
  const noWheel = /([A-Za-z0-9._-]+)(==\S+)? has no usable wheels/.exec(stderr);
  if (noWheel) {
    return `${noWheel[1]} has no wheel for this machine, and environments are built from wheels only`;
  }
  const cause = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter(
      (l) => l.startsWith("cause:") || l.startsWith("error:") || l.startsWith("×") || l.startsWith("╰─▶"),
    )
    .at(-1);
  return `resolving the requirements failed${cause ? `: ${cause.replace(/^(cause|error):\s*/, "")}` : ""}`;
}

/** "name==version" for each package in a uv lock. */
export function lockPackages(lock: string): string[] {
  const out: string[] = [];
  for (const m of lock.matchAll(/^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)/gm)) out.push(`${m[1]}==${m[2]}`);
  return out.sort();
}

/**
 * Requirements as the lines of a requirements file: each parsed again and re-written,
 * whatever stored spec it came from (a build queued before a parser fix, a rebuild).
 */
export function requirementLines(requirements: readonly string[]): string[] {
  return requirements.map((r) => {
    const parsed = parseRequirement(r);
    if ("problem" in parsed) throw new BuildFailure(`${parsed.problem.message}; ${parsed.problem.hint}`);
    return formatRequirement(parsed.requirement);
  });
}

/** uv's rule on wheels: all of them, except the packages the admin named, built from source. */
export function binaryArgs(allowSource: readonly string[] = []): string[] {
  return ["--only-binary", ":all:", ...allowSource.flatMap((name) => ["--no-binary", name])];
}

export async function buildEnvironment(inp: BuildInputs): Promise<BuildOutput> {
  let group: BuildCgroup | undefined;
  if (inp.cgroup) {
    const missing = cgroupsMissing(inp.cgroup);
    if (missing) inp.log(`no cgroup for this build (${missing}): its process group is ended instead\n`);
    else group = BuildCgroup.create(inp.cgroup, inp.cgroup.name);
  }
  try {
    return await buildSteps({ ...inp, group });
  } finally {
    await group?.remove();
  }
}

async function buildSteps(inp: BuildInputs & { group: BuildCgroup | undefined }): Promise<BuildOutput> {
  const step = (title: string) => inp.log(`[${stamp()}] == ${title}\n`);
  const envPath = join(inp.dir, "env");
  const reqFile = join(inp.dir, "requirements.in");
  const consFile = join(inp.dir, "constraints.txt");
  const requirements = requirementLines(inp.requirements);
  const constraints = requirementLines(inp.constraints);
  writeFileSync(reqFile, `${requirements.join("\n")}\n`, { mode: 0o644 });
  writeFileSync(consFile, constraints.length ? `${constraints.join("\n")}\n` : "", { mode: 0o644 });
  const binary = binaryArgs(inp.allowSource);
  const fromSource = inp.allowSource?.length ? `; from source: ${inp.allowSource.join(", ")}` : "";

  step(`resolving ${requirements.join(", ")} (uv pip compile, wheels only${fromSource})`);
  const compile = await runStep(
    inp,
    inp.uv,
    [
      "pip",
      "compile",
      reqFile,
      "--constraint",
      consFile,
      "--python",
      inp.python,
      "--generate-hashes",
      ...binary,
      "--no-header",
    ],
    { stdoutToLog: false },
  );
  if (compile.code !== 0) throw new BuildFailure(explainResolution(compile.stderr));
  const lock = compile.stdout;
  writeFileSync(join(inp.dir, "lock.txt"), lock, { mode: 0o644 });
  const packages = lockPackages(lock);
  inp.log(`locked ${packages.length} packages: ${packages.join(" ")}\n`);

  step("creating the environment (uv venv)");
  mkdirSync(envPath, { mode: 0o755 });
  chownSync(envPath, inp.account.uid, inp.account.gid);
  const venv = await runStep(inp, inp.uv, ["venv", "--python", inp.python, envPath], { stdoutToLog: true });
  if (venv.code !== 0) throw new BuildFailure(`creating the environment failed (uv venv exit ${venv.code})`);

  step("installing the lock (uv pip sync)");
  const sync = await runStep(
    inp,
    inp.uv,
    [
      "pip",
      "sync",
      join(inp.dir, "lock.txt"),
      "--python",
      join(envPath, "bin", "python"),
      "--require-hashes",
      ...binary,
      "--link-mode",
      "copy",
    ],
    { stdoutToLog: true },
  );
  if (sync.code !== 0)
    throw new BuildFailure(`installing the packages failed (uv pip sync exit ${sync.code})`);

  step("handing the environment to root");
  await exec("chown", ["-R", "-h", "0:0", envPath]);
  await exec("chmod", ["-R", "u-s,g-s,go-w", envPath]);
  const du = await exec("du", ["-sb", envPath]);
  const size = Number.parseInt(du.stdout, 10) || 0;
  inp.log(`[${stamp()}] == installed: ${(size / 1e6).toFixed(0)} MB\n`);
  return { lock, packages, size };
}

/** Folders of packages' own tests: rarely imported, so compiled on use instead. */
const TEST_DIRS = "[/]tests?[/]";

/** Step 5: bytecode for a finished (root-owned) environment, as root. */
export async function compileBytecode(
  inp: Pick<BuildInputs, "dir" | "python" | "log" | "signal" | "passEnv" | "cacheDir">,
): Promise<void> {
  const libs = join(inp.dir, "env", "lib");
  const sites = readdirSync(libs)
    .filter((d) => d.startsWith("python"))
    .map((d) => join(libs, d, "site-packages"));
  // compileall reads each .py and writes __pycache__/ beside it, following links: a
  // link the build account left there would have root read or write where it points.
  // Installing wheels makes no links in site-packages, so one means something is wrong.
  const link = (await exec("find", [...sites, "-type", "l", "-print", "-quit"])).stdout.trim();
  if (link) {
    inp.log(`[${stamp()}] == bytecode not compiled: ${link} is a symlink, which no wheel installs\n`);
    return;
  }
  inp.log(`[${stamp()}] == compiling bytecode (the environment is usable meanwhile)\n`);
  const r = await runStep(
    { ...inp, account: undefined },
    inp.python,
    ["-I", "-S", "-m", "compileall", "-q", "-j", "0", "-x", TEST_DIRS, ...sites],
    { stdoutToLog: true },
  );
  if (r.code !== 0) inp.log("some files did not compile (kept as source)\n");
  inp.log(`[${stamp()}] == done\n`);
}
