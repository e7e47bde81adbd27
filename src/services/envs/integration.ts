/**
 * Making environments usable: a Jupyter kernelspec for each environment in the
 * folder of every user allowed to use it (the spawner puts <kernelsDir>/<user> on
 * the server's JUPYTER_PATH, and Jupyter lists kernelspecs on each request, so a new
 * kernel appears without restarting anything), and the list of worker environments
 * dask-gateway reads on each cluster request.
 *
 * Must stay true: a user's kernel folder holds exactly the environments that user
 * may use and is readable by that user only; both outputs point at the env's
 * `current` link, so switching builds needs no rewrite; files are replaced atomically.
 */
import { chownSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { DaskEnvironments } from "../../contracts/dask-gateway.js";
import { ensureReadableBy, isDir } from "./layout.js";

export interface PublishedEnv {
  namespace: string;
  name: string;
  /** <env>/current; only environments with a successful build are published. */
  prefix: string;
  /** null: everyone; else the users who may use it. */
  users: readonly string[] | null;
}

export function kernelName(ns: string, name: string): string {
  return `${ns}.${name}`;
}

export function daskEnvironmentName(ns: string, name: string): string {
  return `${ns}/${name}`;
}

export function kernelSpec(env: PublishedEnv): Record<string, unknown> {
  const bin = join(env.prefix, "bin");
  return {
    argv: [join(bin, "python"), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
    display_name: `${env.name} (${env.namespace})`,
    language: "python",
    interrupt_mode: "signal",
    // ${PATH} is the server's PATH (jupyter_client substitutes it), so `!pip` and
    // other commands of the environment come first in its kernels.
    env: { PATH: `${bin}:\${PATH}`, VIRTUAL_ENV: env.prefix },
    metadata: { debugger: true, atrium: { namespace: env.namespace, environment: env.name } },
  };
}

/** Writes the file whole (a temporary then a rename) unless it already holds text (and has owner, when given). */
function writeIfChanged(path: string, text: string, mode: number, owner: number | null = null): boolean {
  try {
    if (readFileSync(path, "utf8") === text && (owner === null || statSync(path).uid === owner)) return false;
  } catch {
    // not there yet
  }
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode });
  if (owner !== null) chownSync(tmp, owner, owner);
  renameSync(tmp, path);
  return true;
}

/** What each user's kernel folder must hold: user -> kernel name -> spec text. */
export function kernelsByUser(
  envs: readonly PublishedEnv[],
  users: readonly string[],
): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const user of users) {
    const mine = new Map<string, string>();
    for (const env of envs) {
      if (env.users === null || env.users.includes(user)) {
        mine.set(kernelName(env.namespace, env.name), `${JSON.stringify(kernelSpec(env), null, 1)}\n`);
      }
    }
    out.set(user, mine);
  }
  return out;
}

/** The dask-environments contract's file (read by python/atrium_hub/dask_gateway.py). */
export function daskEnvironments(envs: readonly PublishedEnv[]): string {
  const list: DaskEnvironments = envs
    .map((e) => ({
      name: daskEnvironmentName(e.namespace, e.name),
      bin: join(e.prefix, "bin"),
      users: e.users === null ? null : [...e.users],
    }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  return `${JSON.stringify(list, null, 1)}\n`;
}

/** Bring the kernel folders and the Dask list in line; returns how many files changed. */
export async function publish(opts: {
  kernelsDir: string;
  daskFile: string | null;
  /** Who reads the Dask list, where that is not root. */
  daskFileOwner: number | null;
  envs: readonly PublishedEnv[];
  users: readonly string[];
}): Promise<number> {
  let changed = 0;
  await ensureReadableBy(opts.kernelsDir, { everyone: true });
  const wanted = kernelsByUser(opts.envs, opts.users);
  for (const [user, kernels] of wanted) {
    const root = join(opts.kernelsDir, user);
    await ensureReadableBy(root, { users: [user] });
    const dir = join(root, "kernels");
    await ensureReadableBy(dir, { everyone: true });
    for (const [name, text] of kernels) {
      await ensureReadableBy(join(dir, name), { everyone: true });
      if (writeIfChanged(join(dir, name, "kernel.json"), text, 0o644)) changed++;
    }
    for (const name of readdirSync(dir)) {
      if (!kernels.has(name)) {
        rmSync(join(dir, name), { recursive: true, force: true });
        changed++;
      }
    }
  }
  if (isDir(opts.kernelsDir)) {
    for (const user of readdirSync(opts.kernelsDir)) {
      if (!wanted.has(user)) {
        rmSync(join(opts.kernelsDir, user), { recursive: true, force: true });
        changed++;
      }
    }
  }
  if (opts.daskFile && writeIfChanged(opts.daskFile, daskEnvironments(opts.envs), 0o600, opts.daskFileOwner))
    changed++;
  return changed;
}
