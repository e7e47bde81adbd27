/**
 * The Video Chat JupyterLab extension in the default user env. `npm run build`
 * builds it into extensions/videochat/labextension; with video chat on, deploy
 * copies that folder to <user env>/share/jupyter/labextensions/@atrium/videochat
 * (where JupyterLab looks for prebuilt extensions), and with it off removes it.
 *
 * What must stay true: the copy is swapped in whole (never half-copied), and the
 * spec names the user env's lockfile, so an env rebuilt for a new lock (a new
 * folder behind the venvs/user link) gets the extension again. JupyterLab reads
 * the extension list on each page load: running servers see a change on reload,
 * so nothing is restarted.
 */
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
} from "node:fs";
import { posix } from "node:path";
import { AtriumError } from "../../../errors.js";
import { hashText } from "../../../lib/hash.js";
import { repoPath } from "../../../paths.js";
import type { Component } from "../../component.js";
import { filesHash, videoChatBuild, videoChatBuilt } from "../../videochat-build.js";
import type { LocalContext } from "../context.js";
import type { LocalPlacement } from "../placement.js";

const SCOPE = "@atrium";
const NAME = "videochat";

export function videoChatInstallDir(placement: LocalPlacement): string {
  return posix.join(placement.paths.userVenv, "share", "jupyter", "labextensions", SCOPE, NAME);
}

/** Readable by every user: their servers load it. */
function openUp(dir: string): void {
  chmodSync(dir, 0o755);
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = posix.join(dir, e.name);
    if (e.isDirectory()) openUp(p);
    else chmodSync(p, 0o644);
  }
}

export function videoChatComponent(ctx: LocalContext): Component {
  const { platform, placement } = ctx;
  const enabled = platform.videochat.enabled;
  const source = videoChatBuild();
  const target = videoChatInstallDir(placement);
  const built = videoChatBuilt();
  const userLock = hashText(readFileSync(repoPath("envs", "user", "requirements.lock")));
  return {
    name: "videochat",
    title: enabled
      ? "Video Chat extension in the user env"
      : "no Video Chat extension (videochat.enabled: false)",
    spec: { enabled, target, userLock, build: enabled ? (built ? filesHash(source) : "not built") : null },
    present: () => existsSync(posix.join(target, "package.json")) === enabled,
    async apply(_previous, progress) {
      const scopeDir = posix.dirname(target);
      if (!enabled) {
        rmSync(target, { recursive: true, force: true });
        if (existsSync(scopeDir) && readdirSync(scopeDir).length === 0) rmdirSync(scopeDir);
        return { note: "removed" };
      }
      if (!built) {
        throw new AtriumError(
          "prerequisite",
          `the Video Chat extension is not built (${source} is missing)`,
          "run npm run build in Atrium's folder, or set videochat.enabled: false",
        );
      }
      progress.detail(`copying ${posix.relative(repoPath(), source)} to ${target}`);
      mkdirSync(scopeDir, { recursive: true });
      const tmp = `${target}.tmp-${process.pid}`;
      rmSync(tmp, { recursive: true, force: true });
      cpSync(source, tmp, { recursive: true });
      openUp(tmp);
      rmSync(target, { recursive: true, force: true });
      renameSync(tmp, target);
      for (let dir = scopeDir; dir !== placement.paths.userVenv && dir !== "/"; dir = posix.dirname(dir)) {
        chmodSync(dir, 0o755);
      }
      return { note: `${SCOPE}/${NAME}` };
    },
  };
}
