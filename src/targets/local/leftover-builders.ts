/**
 * Processes a killed deploy left working on an unfinished build folder. Only the
 * deploy process dies when it is killed (`kill -9`, the OOM killer): pip, uv and
 * their workers run on and keep writing into the folder. The next deploy stops
 * them before it empties the folder and builds it again, so two builders never
 * write into one folder. Nothing else names an unfinished build folder (links only
 * ever point at complete ones, and the deploy lock keeps other deploys out), so
 * every live process with the folder among its arguments is such a leftover.
 */
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { basename } from "node:path";
import { AtriumError } from "../../errors.js";
import { pidAlive } from "../../lib/process.js";

/** Live processes with `dir` (or a path below it) as one of their arguments. */
function processesUsing(dir: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      if (args.some((a) => a === dir || a.startsWith(`${dir}/`)) && pidAlive(pid)) found.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Stop every leftover builder of `dir`, then remove the folder. */
export async function clearUnfinishedBuild(dir: string, say: (line: string) => void): Promise<void> {
  for (let round = 0; ; round++) {
    const pids = processesUsing(dir);
    if (pids.length === 0) break;
    if (round === 100)
      throw new AtriumError(
        "apply-failed",
        `processes still work in ${dir}: ${pids.join(", ")}`,
        "stop them and deploy again",
      );
    if (round === 0) say(`stopping ${pids.length} leftover build process(es) in ${basename(dir)}`);
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
}
