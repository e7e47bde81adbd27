/**
 * uv, the Python package installer that builds every environment. Taken from PATH
 * when there, else installed once from PyPI into <prefix>/tools from a hashed lock.
 */
import { existsSync } from "node:fs";
import { posix } from "node:path";
import type { Platform } from "../../model/platform.js";
import { repoPath } from "../../paths.js";
import { run, tryRun } from "./exec.js";

export const SYSTEM_PYTHON = "/usr/bin/python3";

export function toolsUv(platform: Platform): string {
  return posix.join(platform.paths.prefix, "tools", "bin", "uv");
}

export async function findUv(platform: Platform): Promise<string | undefined> {
  if (existsSync(toolsUv(platform))) return toolsUv(platform);
  const onPath = await tryRun("sh", ["-c", "command -v uv"]);
  return onPath?.trim() || undefined;
}

/** Install uv from PyPI into <prefix>/tools (a venv of the system Python). */
export async function installUv(platform: Platform, onLine: (l: string) => void): Promise<string> {
  const tools = posix.join(platform.paths.prefix, "tools");
  await run(SYSTEM_PYTHON, ["-m", "venv", tools], { onLine });
  await run(
    posix.join(tools, "bin", "pip"),
    [
      "install",
      "--disable-pip-version-check",
      "--require-hashes",
      "-r",
      repoPath("envs", "tools", "requirements.lock"),
    ],
    { onLine },
  );
  return toolsUv(platform);
}

/** The environment uv runs with: our cache, never a downloaded Python. */
export function uvEnv(platform: Platform): NodeJS.ProcessEnv {
  return {
    ...process.env,
    UV_CACHE_DIR: posix.join(platform.paths.prefix, "cache", "uv"),
    UV_PYTHON_DOWNLOADS: "never",
    UV_NO_PROGRESS: "1",
  };
}
