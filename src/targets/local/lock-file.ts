/**
 * The local target's deploy lock. One deploy at a time: a lock file created
 * exclusively, holding the owner's pid. A lock whose process is gone is stale and
 * taken over.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { AtriumError } from "../../errors.js";
import { pidAlive } from "../../lib/process.js";
import type { DeployLock } from "../target.js";

export function acquireLock(stateDir: string, what = "deploy"): () => void {
  const file = join(stateDir, "deploy.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, "wx", 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(file, "utf8").trim() === String(process.pid)) unlinkSync(file);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const owner = Number.parseInt(readFileSafe(file), 10);
      if (Number.isInteger(owner) && owner > 0 && pidAlive(owner)) {
        throw new AtriumError(
          "locked",
          `another ${what} is running (pid ${owner})`,
          `wait for it to finish; the lock is ${file}`,
        );
      }
      try {
        unlinkSync(file);
      } catch {
        // someone else removed it first
      }
    }
  }
  throw new AtriumError("locked", `could not take the deploy lock ${file}`, "try again");
}

function readFileSafe(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

/** `atrium unlock` here: the lock file removed when its process is gone (or with `force`). */
function unlockFile(stateDir: string, force: boolean): string {
  const file = join(stateDir, "deploy.lock");
  if (!existsSync(file)) return `no deploy lock to remove (${file} does not exist)`;
  const owner = Number.parseInt(readFileSafe(file), 10);
  const alive = Number.isInteger(owner) && owner > 0 && pidAlive(owner);
  if (alive && !force)
    throw new AtriumError(
      "locked",
      `the deploy lock ${file} is held by pid ${owner}, which is running`,
      "wait for it to finish, or stop that process; atrium unlock --force removes the lock anyway",
    );
  try {
    unlinkSync(file);
  } catch {
    // removed meanwhile
  }
  return `removed the deploy lock ${file}${Number.isInteger(owner) ? `, held by pid ${owner}${alive ? " (still running)" : ""}` : ""}`;
}

/** The lock in the state folder; deploy makes the folder (root-only), destroy of a platform never deployed takes none. */
export function stateDirLock(stateDir: string): DeployLock {
  return {
    unlock: async (force) => unlockFile(stateDir, force),
    async acquire(what, create) {
      if (create) mkdirSync(stateDir, { recursive: true, mode: 0o700 });
      else if (!existsSync(stateDir)) return async () => {};
      const release = acquireLock(stateDir, what);
      return async () => release();
    },
  };
}
