/** Small file-system steps shared by components; each is idempotent. */
import { chmodSync, chownSync, mkdirSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

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
