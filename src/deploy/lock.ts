/**
 * One deploy at a time: a lock file created exclusively, holding the owner's pid.
 * A lock whose process is gone is stale and taken over.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { AtriumError } from "../errors.js";
import { pidAlive } from "../lib/process.js";

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
