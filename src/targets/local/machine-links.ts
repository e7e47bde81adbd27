/**
 * The two machine-wide names a deploy gives its platform, so that the README's
 * commands work as written from any folder:
 *  - the command on PATH: /usr/local/bin/atrium -> <prefix>/bin/atrium;
 *  - the deployed file: /etc/atrium/atrium.yaml -> <state_dir>/atrium.yaml, a copy of
 *    the file last deployed, which `status`, `logs`, `env`, `passwd` and `destroy`
 *    read when no -c is given and there is no ./atrium.yaml.
 * With several platforms on one machine the last deploy owns both. A link is made
 * only where nothing is or where an earlier Atrium link is, and removed only while
 * it points at this platform, so a file of the admin's own is never touched.
 * ATRIUM_BIN_LINK and ATRIUM_DEPLOYED_LINK move them (tests run many platforms).
 */
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmdirSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { dirname, posix, resolve } from "node:path";
import { AtriumError } from "../../errors.js";
import type { LocalPlacement } from "./placement.js";
import { launcherPath } from "./systemd-unit.js";

export const DEFAULT_BIN_LINK = "/usr/local/bin/atrium";
export const DEFAULT_DEPLOYED_LINK = "/etc/atrium/atrium.yaml";
/** A line of every launcher (components/launcher.ts), telling ours from other files. */
export const LAUNCHER_MARK = "# Runs Atrium as installed by the last deploy.";

export function binLinkPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.ATRIUM_BIN_LINK || DEFAULT_BIN_LINK;
}

export function deployedLinkPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.ATRIUM_DEPLOYED_LINK || DEFAULT_DEPLOYED_LINK;
}

/** The copy of the deployed file, kept with the platform's state (root-only). */
export function deployedCopyPath(placement: LocalPlacement): string {
  return posix.join(placement.paths.stateDir, "atrium.yaml");
}

function linkTarget(link: string): string | undefined | null {
  try {
    if (!lstatSync(link).isSymbolicLink()) return null;
    return readlinkSync(link);
  } catch {
    return undefined;
  }
}

/** An earlier Atrium link at the command's place: to a launcher, or dangling to a .../bin/atrium. */
export function isAtriumCommandLink(target: string, link: string): boolean {
  const path = resolve(dirname(link), target);
  try {
    return readFileSync(path, "utf8").includes(LAUNCHER_MARK);
  } catch {
    return path.endsWith("/bin/atrium");
  }
}

/** An earlier Atrium link at the deployed file's place: to some platform's <state_dir>/atrium.yaml. */
export function isDeployedFileLink(target: string): boolean {
  return target.endsWith("/atrium.yaml");
}

export type LinkOutcome = "linked" | "unchanged" | "taken";

/**
 * Point `link` at `target` when nothing is there or `ours` says the link there is an
 * Atrium one; "taken" when something else is there (it is left alone).
 */
export function linkIfFree(link: string, target: string, ours: (current: string) => boolean): LinkOutcome {
  const current = linkTarget(link);
  if (current === target) return "unchanged";
  if (current === null || (current !== undefined && !ours(current))) return "taken";
  mkdirSync(dirname(link), { recursive: true, mode: 0o755 });
  const tmp = `${link}.tmp-${process.pid}`;
  rmSync(tmp, { force: true });
  symlinkSync(target, tmp);
  renameSync(tmp, link);
  return "linked";
}

/** Whether `link` is as linkIfFree leaves it: at `target`, or taken by something else. */
export function linkSettled(link: string, target: string, ours: (current: string) => boolean): boolean {
  const current = linkTarget(link);
  return current === target || current === null || (current !== undefined && !ours(current));
}

/** Remove `link` if it points at `target`; anything else stays. */
export function unlinkIfPointsAt(link: string, target: string): boolean {
  if (linkTarget(link) !== target) return false;
  rmSync(link, { force: true });
  return true;
}

/**
 * What destroy --purge undoes: the command on PATH while it runs this platform's
 * launcher, the deployed file and its link while it points at this platform. A plain
 * destroy keeps them, so `atrium destroy --purge` still works as written after it.
 */
export function forgetMachineLinks(placement: LocalPlacement): string[] {
  const removed: string[] = [];
  if (unlinkIfPointsAt(binLinkPath(), launcherPath(placement))) removed.push(binLinkPath());
  const link = deployedLinkPath();
  if (unlinkIfPointsAt(link, deployedCopyPath(placement))) {
    removed.push(link);
    try {
      if (readdirSync(dirname(link)).length === 0) rmdirSync(dirname(link));
    } catch {
      // not there or not empty
    }
  }
  rmSync(deployedCopyPath(placement), { force: true });
  return removed;
}

/**
 * The config file a command on a deployed platform reads: -c FILE when given, else
 * ./atrium.yaml when there, else the deployed file.
 */
export function resolveConfigFile(
  given: string | undefined,
  cwd: string = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (given !== undefined && given !== "") return given;
  if (existsSync(posix.join(cwd, "atrium.yaml"))) return "atrium.yaml";
  const deployed = deployedLinkPath(env);
  if (existsSync(deployed)) return deployed;
  throw new AtriumError(
    "file-not-found",
    `no atrium.yaml in ${cwd}, and no deployed platform is remembered at ${deployed}`,
    "pass -c FILE (the file you deployed), or run it from the folder holding atrium.yaml",
  );
}
