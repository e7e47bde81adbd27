/**
 * The platform's Python environments, built with uv from the hashed lockfiles in
 * envs/ on the system Python. Each build goes into its own folder named by the
 * lock's hash; the stable path (<prefix>/venvs/hub, .../user) is a symlink switched
 * atomically once the build is complete, so a failed or killed build never breaks
 * the running platform. A build that a killed deploy left running is stopped before
 * the folder is built again (../leftover-builders.ts).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { basename, posix } from "node:path";
import { hashText } from "../../../lib/hash.js";
import { repoPath } from "../../../paths.js";
import type { Component, Progress } from "../../component.js";
import type { LocalContext } from "../context.js";
import { run } from "../exec.js";
import { switchBuildLink } from "../fsutil.js";
import { clearUnfinishedBuild } from "../leftover-builders.js";
import type { LocalPlacement } from "../placement.js";
import { ensureUv, SYSTEM_PYTHON, uvEnv } from "../uv.js";

const COMPLETE = ".atrium-complete";
/** Bump when the way envs are built changes, so older builds are not reused. */
const RECIPE = 4;

/** The folder the hub env's .pth file points at: the hub glue (see hub-glue.ts). */
export function glueLink(placement: LocalPlacement): string {
  return posix.join(placement.paths.prefix, "lib", "hub-glue");
}

async function buildEnv(
  placement: LocalPlacement,
  link: string,
  lock: string,
  id: string,
  withGlue: boolean,
  progress: Progress,
): Promise<string> {
  const target = `${link}-${id}`;
  if (existsSync(posix.join(target, COMPLETE))) {
    progress.detail(`reusing ${basename(target)}`);
  } else {
    const uv = await ensureUv(placement, progress.detail);
    const env = uvEnv(placement);
    await clearUnfinishedBuild(target, progress.detail);
    progress.detail(`creating ${target}`);
    await run(uv, ["venv", "--quiet", "--python", SYSTEM_PYTHON, target], { env });
    const python = posix.join(target, "bin", "python");
    progress.detail(`installing ${posix.relative(repoPath(), lock)}`);
    // Bytecode is compiled here because users can't write into this root-owned env.
    await run(
      uv,
      [
        "pip",
        "sync",
        "--python",
        python,
        "--require-hashes",
        "--only-binary",
        ":all:",
        "--compile-bytecode",
        lock,
      ],
      { env, onLine: progress.detail },
    );
    if (withGlue) {
      // The glue is Atrium's own code, reached through a .pth file (see hub-glue.ts): nothing to build or download.
      const site = await run(python, ["-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]);
      writeFileSync(posix.join(site.stdout.trim(), "atrium_hub.pth"), `${glueLink(placement)}\n`);
    }
    writeFileSync(posix.join(target, COMPLETE), `${id}\n`);
  }
  switchBuildLink(link, target);
  return target;
}

/** Identifies one build of an env: its lock and the way it is built. */
export function envBuildId(name: "hub" | "user"): string {
  return hashText(`${RECIPE}:${hashText(readFileSync(repoPath("envs", name, "requirements.lock")))}`);
}

function envComponent(ctx: LocalContext, name: "hub" | "user", title: string, withGlue: boolean): Component {
  const { placement } = ctx;
  const lock = repoPath("envs", name, "requirements.lock");
  const id = envBuildId(name);
  const link = name === "hub" ? placement.paths.hubVenv : placement.paths.userVenv;
  return {
    name: `${name}-env`,
    title,
    spec: { build: id, python: SYSTEM_PYTHON, path: link, glue: withGlue ? glueLink(placement) : null },
    present: () => existsSync(posix.join(link, COMPLETE)),
    async apply(_previous, progress) {
      const target = await buildEnv(placement, link, lock, id, withGlue, progress);
      return { note: basename(target) };
    },
  };
}

export function hubEnvComponent(ctx: LocalContext): Component {
  return envComponent(ctx, "hub", "Python env for the hub (JupyterHub, culler, glue)", true);
}

export function userEnvComponent(ctx: LocalContext): Component {
  return envComponent(ctx, "user", "default user Python env (JupyterLab, Dask, ...)", false);
}
