/**
 * What the environment service needs before it starts: the unprivileged system
 * account that runs every build (`atrium-build`: no home, no shell, no password,
 * never a platform user), the root-owned folder of its uv caches (the service makes
 * one per namespace inside, owned by the account), and the root-only state folder
 * and the kernels folder below envs_dir. The account is shared by the platforms on this
 * machine, so destroy keeps it.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Component } from "../../component.js";
import type { LocalContext } from "../context.js";
import { BUILD_ACCOUNT, buildCacheDir, envsStateDir, kernelsDir } from "../envs.js";
import { run, tryRun } from "../exec.js";
import { ensureDir } from "../fsutil.js";

function accountExists(): boolean {
  try {
    return readFileSync("/etc/passwd", "utf8")
      .split("\n")
      .some((l) => l.startsWith(`${BUILD_ACCOUNT}:`));
  } catch {
    return false;
  }
}

export function envsSetupComponent(ctx: LocalContext): Component {
  const { placement } = ctx;
  const cache = buildCacheDir(placement);
  const dirs = { state: envsStateDir(placement), kernels: kernelsDir(placement) };
  return {
    name: "envs-setup",
    title: `build account ${BUILD_ACCOUNT} and folders for managed environments`,
    spec: { account: BUILD_ACCOUNT, cache, ...dirs },
    present: () => accountExists() && existsSync(cache) && existsSync(dirs.state),
    async apply(_previous, progress) {
      let note = "account kept";
      if (!(await tryRun("getent", ["passwd", BUILD_ACCOUNT]))) {
        await run("useradd", [
          "--system",
          "--user-group",
          "--no-create-home",
          "--home-dir",
          "/nonexistent",
          "--shell",
          "/usr/sbin/nologin",
          "--comment",
          "Atrium environment builds",
          BUILD_ACCOUNT,
        ]);
        await run("usermod", ["-L", BUILD_ACCOUNT]);
        progress.detail(`system account ${BUILD_ACCOUNT} created`);
        note = "account created";
      }
      ensureDir(dirname(cache), 0o755);
      ensureDir(cache, 0o755);
      ensureDir(placement.paths.envsDir, 0o755);
      ensureDir(dirs.state, 0o700);
      ensureDir(dirs.kernels, 0o755);
      return { note };
    },
  };
}
