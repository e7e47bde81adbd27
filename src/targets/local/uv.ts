/**
 * uv, the Python package installer that builds every environment: always Atrium's
 * own, installed from PyPI by pip from the hashed lock envs/tools/requirements.lock
 * into a venv of the system Python at <prefix>/tools-<hash>, reached through the
 * <prefix>/tools link. Never a uv found on PATH: that one may be a different
 * version, or sit where the build account can't reach it (root's home).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { posix } from "node:path";
import { hashText } from "../../lib/hash.js";
import { repoPath } from "../../paths.js";
import { run } from "./exec.js";
import { switchBuildLink } from "./fsutil.js";
import { clearUnfinishedBuild } from "./leftover-builders.js";
import type { LocalPlacement } from "./placement.js";

export const SYSTEM_PYTHON = "/usr/bin/python3";
/** Written last into a finished tools folder, holding the lock's hash. */
const COMPLETE = ".atrium-complete";

export function uvLockFile(): string {
  return repoPath("envs", "tools", "requirements.lock");
}

/** The hash of the tools lock: names the folder uv is installed into. */
export function uvBuildId(): string {
  return hashText(readFileSync(uvLockFile()));
}

export function toolsDir(placement: LocalPlacement): string {
  return posix.join(placement.paths.prefix, "tools");
}

export function toolsUv(placement: LocalPlacement): string {
  return posix.join(toolsDir(placement), "bin", "uv");
}

/** Whether <prefix>/tools holds uv installed from today's lock. */
export function uvInstalled(placement: LocalPlacement): boolean {
  try {
    const stamp = readFileSync(posix.join(toolsDir(placement), COMPLETE), "utf8").trim();
    return stamp === uvBuildId() && existsSync(toolsUv(placement));
  } catch {
    return false;
  }
}

/** Install uv from the lock into <prefix>/tools-<hash> and point <prefix>/tools at it. */
export async function installUv(placement: LocalPlacement, onLine: (l: string) => void): Promise<string> {
  const id = uvBuildId();
  const link = toolsDir(placement);
  const target = `${link}-${id}`;
  if (!existsSync(posix.join(target, COMPLETE))) {
    await clearUnfinishedBuild(target, onLine);
    await run(SYSTEM_PYTHON, ["-m", "venv", target], { onLine });
    await run(
      posix.join(target, "bin", "pip"),
      ["install", "--disable-pip-version-check", "--no-input", "--require-hashes", "-r", uvLockFile()],
      { onLine },
    );
    writeFileSync(posix.join(target, COMPLETE), `${id}\n`);
  }
  switchBuildLink(link, target);
  return toolsUv(placement);
}

/** Atrium's uv, installed first when missing or from an older lock. */
export async function ensureUv(placement: LocalPlacement, onLine: (l: string) => void): Promise<string> {
  return uvInstalled(placement) ? toolsUv(placement) : installUv(placement, onLine);
}

/** The environment uv runs with: our cache, never a downloaded Python. */
export function uvEnv(placement: LocalPlacement): NodeJS.ProcessEnv {
  return {
    ...process.env,
    UV_CACHE_DIR: posix.join(placement.paths.prefix, "cache", "uv"),
    UV_PYTHON_DOWNLOADS: "never",
    UV_NO_PROGRESS: "1",
  };
}
