/**
 * Build time of a reference environment (numpy, pandas, scikit-learn) with Atrium's
 * backend (the environment service's builder: uv as the build account, wheels only,
 * a lock with hashes) against `python -m venv` + `pip install` of the same
 * requirements, side by side in one run: first both with fresh empty caches, then a
 * rebuild of each with its cache warm. Both install the same list (Atrium adds
 * ipykernel and distributed to every environment, so pip gets them too) and both
 * compile bytecode (pip's default). Atrium's environment is usable (its `current`
 * link switches, its kernel appears) before its bytecode is compiled, so two times
 * are shown for it: usable, and complete. Runs as root; builds run as the build
 * account (atrium-build, or nobody when no platform was deployed here).
 * Usage: node dist/bench/envs.js [PACKAGE...]
 */
import { execFileSync, spawn } from "node:child_process";
import { chownSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { repoPath } from "../src/paths.js";
import {
  type BuildAccount,
  buildEnv,
  buildEnvironment,
  compileBytecode,
} from "../src/services/envs/builder.js";
import { lookupAccount } from "../src/services/envs/service.js";
import { withPlatformPackages } from "../src/services/envs/spec.js";
import { pinnedUv } from "../test/e2e/harness.js";
import { secs } from "./support.js";

const PYTHON = "/usr/bin/python3";
const packages =
  process.argv.slice(2).length > 0 ? process.argv.slice(2) : ["numpy", "pandas", "scikit-learn"];

/** dask and distributed as pinned in the default user env's lock, as the service pins them. */
function platformPins(): Record<string, string> {
  const lock = readFileSync(repoPath("envs", "user", "requirements.lock"), "utf8");
  const pins: Record<string, string> = {};
  for (const m of lock.matchAll(/^(dask|distributed)==([^\s;\\]+)/gm)) if (m[1] && m[2]) pins[m[1]] = m[2];
  return pins;
}

function freshDir(path: string, account: BuildAccount, mode = 0o700): string {
  rmSync(path, { recursive: true, force: true });
  mkdirSync(path, { recursive: true, mode });
  chownSync(path, account.uid, account.gid);
  return path;
}

interface Timing {
  /** Until the environment can be used (for pip: when it is complete). */
  usable: number;
  total: number;
  phases: Array<[string, number]>;
  packages: number;
}

async function atrium(
  root: string,
  name: string,
  cache: string,
  account: BuildAccount,
  reqs: ReturnType<typeof withPlatformPackages>,
  uv: string,
): Promise<Timing> {
  const dir = join(root, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const marks: Array<[string, number]> = [];
  const log = (text: string) => {
    for (const m of text.matchAll(/ == (\S+)/g)) if (m[1]) marks.push([m[1], Date.now()]);
  };
  const signal = new AbortController().signal;
  const started = Date.now();
  const out = await buildEnvironment({
    dir,
    requirements: reqs.requirements,
    constraints: reqs.constraints,
    uv,
    python: PYTHON,
    cacheDir: cache,
    account,
    passEnv: process.env,
    log,
    signal,
  });
  const usable = Date.now() - started;
  await compileBytecode({ dir, python: PYTHON, cacheDir: cache, passEnv: process.env, log, signal });
  const total = Date.now() - started;
  const phases = marks
    .map(([n, t], k): [string, number] => [n, (marks[k + 1]?.[1] ?? started + total) - t])
    .filter(([n]) => n !== "done" && n !== "installed:");
  return { usable, total, phases, packages: out.packages.length };
}

function pip(
  root: string,
  name: string,
  cache: string,
  account: BuildAccount,
  reqs: ReturnType<typeof withPlatformPackages>,
): Promise<Timing> {
  const dir = freshDir(join(root, name), account, 0o755);
  writeFileSync(join(dir, "requirements.txt"), `${reqs.requirements.join("\n")}\n`, { mode: 0o644 });
  writeFileSync(join(dir, "constraints.txt"), `${reqs.constraints.join("\n")}\n`, { mode: 0o644 });
  const script = [
    `${PYTHON} -m venv env`,
    `env/bin/pip install --quiet --only-binary :all: -r requirements.txt -c constraints.txt`,
  ].join(" && ");
  const env = {
    ...buildEnv(process.env, cache),
    PIP_CACHE_DIR: cache,
    PIP_DISABLE_PIP_VERSION_CHECK: "1",
    PIP_NO_INPUT: "1",
  };
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn("/bin/sh", ["-c", script], {
      cwd: dir,
      env,
      uid: account.uid,
      gid: account.gid,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    child.on("close", (code) => {
      const total = Date.now() - started;
      if (code !== 0) {
        reject(new Error(`pip failed (exit ${code}): ${stderr.slice(-2000)}`));
        return;
      }
      const list = execFileSync(join(dir, "env", "bin", "python"), ["-m", "pip", "list", "--format=freeze"], {
        encoding: "utf8",
        env: { PIP_DISABLE_PIP_VERSION_CHECK: "1" },
      });
      // pip itself is in every venv it makes; not one of the requested packages
      const count = list.split("\n").filter((l) => l.includes("==") && !l.startsWith("pip==")).length;
      resolve({ usable: total, total, phases: [], packages: count });
    });
  });
}

const uv = pinnedUv();
const account = (await lookupAccount("atrium-build")) ?? (await lookupAccount("nobody"));
if (!account) throw new Error("neither atrium-build nor nobody exists");
const reqs = withPlatformPackages(packages, platformPins());
const root = `/var/tmp/atrium-bench-envs-${process.pid}`;
mkdirSync(root, { recursive: true, mode: 0o755 });
const uvCache = freshDir(join(root, "uv-cache"), account);
const pipCache = freshDir(join(root, "pip-cache"), account);
const load = () => loadavg()[0]?.toFixed(1) ?? "?";

try {
  process.stdout.write(
    `Reference environment: ${packages.join(", ")} (+ ${reqs.requirements.slice(packages.length).join(", ")}, ` +
      `which Atrium adds to every environment; pinned: ${reqs.constraints.join(", ")})\n` +
      `System Python ${execFileSync(PYTHON, ["--version"], { encoding: "utf8" }).trim()}, ${uv} ` +
      `(${execFileSync(uv, ["--version"], { encoding: "utf8" }).trim()}), builds as ${account.name}; ` +
      `load average at start ${load()}\n\n`,
  );
  const coldAtrium = await atrium(root, "atrium-cold", uvCache, account, reqs, uv);
  process.stdout.write(
    `  cold  Atrium (uv)   usable ${secs(coldAtrium.usable)}, complete ${secs(coldAtrium.total)}  (${coldAtrium.packages} packages)\n`,
  );
  const coldPip = await pip(root, "pip-cold", pipCache, account, reqs);
  process.stdout.write(`  cold  venv + pip    ${secs(coldPip.total)}  (${coldPip.packages} packages)\n`);
  const warmAtrium = await atrium(root, "atrium-warm", uvCache, account, reqs, uv);
  process.stdout.write(
    `  warm  Atrium (uv)   usable ${secs(warmAtrium.usable)}, complete ${secs(warmAtrium.total)}\n`,
  );
  const warmPip = await pip(root, "pip-warm", pipCache, account, reqs);
  process.stdout.write(`  warm  venv + pip    ${secs(warmPip.total)}\n`);
  const size = execFileSync("du", ["-sh", join(root, "atrium-warm", "env")], { encoding: "utf8" }).split(
    "\t",
  )[0];

  const x = (a: number, b: number) => `${(b / a).toFixed(1)}x`;
  const row = (label: string, a: Timing, b: Timing) =>
    `${label.padEnd(22)} ${secs(a.usable).padStart(9)} ${secs(a.total).padStart(10)} ${secs(b.total).padStart(11)}` +
    `${x(a.usable, b.total).padStart(10)} ${x(a.total, b.total).padStart(10)}\n`;
  const phases = (t: Timing) => t.phases.map(([n, ms]) => `${n} ${secs(ms)}`).join(", ");
  process.stdout.write(
    `\nBuild time of the reference environment (${coldAtrium.packages} packages, ${size} on disk), one run:\n` +
      `${"".padEnd(22)} ${"Atrium (uv)".padStart(20)} ${"venv + pip".padStart(11)} ${"speed-up".padStart(20)}\n` +
      `${"".padEnd(22)} ${"usable".padStart(9)} ${"complete".padStart(10)} ${"complete".padStart(11)}` +
      `${"usable".padStart(10)} ${"complete".padStart(10)}\n` +
      row("fresh empty caches", coldAtrium, coldPip) +
      row("rebuild, warm caches", warmAtrium, warmPip) +
      `Atrium's steps, cold: ${phases(coldAtrium)}\n` +
      `Atrium's steps, warm: ${phases(warmAtrium)}\n` +
      `load average at the end ${load()} (this machine has ${execFileSync("nproc", { encoding: "utf8" }).trim()} cores and is shared)\n` +
      "(usable: the environment's kernel is offered and imports work; complete: its bytecode is compiled too,\n" +
      " except packages' test folders; reference: Nebari's docs say a new environment takes 1-10 minutes to appear)\n",
  );
} finally {
  rmSync(root, { recursive: true, force: true });
}
