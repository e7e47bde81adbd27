/** Small file-system steps shared by components; each is idempotent. */
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, posix } from "node:path";
import { run } from "./exec.js";

export function ensureDir(path: string, mode: number, uid = 0, gid = 0): void {
  mkdirSync(path, { recursive: true, mode });
  chmodSync(path, mode);
  const st = statSync(path);
  if (st.uid !== uid || st.gid !== gid) chownSync(path, uid, gid);
}

/** Write a file atomically with the given mode (the mode is set before the content lands). */
export function writeFileAtomic(path: string, content: string | Buffer, mode: number): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, content, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

/**
 * Point `link` at the finished build `target` (a sibling named <link>-<id>) in one
 * atomic rename, then keep the newest other build (for a quick switch back) and
 * remove the rest. A real folder at `link` (an older layout) is replaced.
 */
export function switchBuildLink(link: string, target: string): void {
  try {
    if (!lstatSync(link).isSymbolicLink()) rmSync(link, { recursive: true, force: true });
  } catch {
    // not there yet
  }
  const tmp = `${link}.tmp-${process.pid}`;
  rmSync(tmp, { force: true });
  symlinkSync(basename(target), tmp);
  renameSync(tmp, link);
  const dir = dirname(link);
  const prefix = `${basename(link)}-`;
  const others = readdirSync(dir)
    .filter((n) => n.startsWith(prefix) && posix.join(dir, n) !== target)
    .map((n) => posix.join(dir, n));
  others.sort((a, b) => mtime(b) - mtime(a));
  for (const old of others.slice(1)) rmSync(old, { recursive: true, force: true });
}

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * Remove a tree that users may be changing while it goes (shared folders, caches,
 * environments), as root. GNU rm walks it through open folders and never follows a
 * link; Node's rmSync goes by path (lstat, then readdir, then each child), so a folder
 * swapped for a link in between has root delete what the link points to.
 * Returns rm's first complaint when something could not be removed.
 */
export async function removeTree(path: string): Promise<string | undefined> {
  const r = await run("rm", ["-rf", "--one-file-system", "--", path], { okCodes: [1] });
  return r.code === 0 ? undefined : r.stderr.trim().split("\n")[0];
}
