/** Small file-system steps shared by components; each is idempotent. */
import { chmodSync, chownSync, mkdirSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
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
