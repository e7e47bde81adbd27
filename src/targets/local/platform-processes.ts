/**
 * The processes of one platform, wherever they were started from: user servers with
 * their kernels and terminals, Dask schedulers and workers, SSH sessions and what was
 * left running from them, and the supervisor's services.
 *
 * A process belongs to the platform when it sits in the platform's cgroups, when it
 * runs as one of the platform's users and its command line, working folder or
 * environment points below the platform's prefix, environments or Dask cluster
 * folders, or when it runs as root and its command line does. The second rule finds what runs
 * where cgroups are off (every server, kernel, terminal, Dask process and SSH
 * session has the platform's envs on its PATH). Accounts about to be deleted give
 * up every process, platform or not.
 *
 * Must stay true: never this process or its ancestors (a destroy run from a
 * platform terminal still finishes); a process that will not stop is named.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { AtriumError } from "../../errors.js";
import type { Platform } from "../../model/platform.js";
import { cgroupMarkers } from "./cgroups.js";
import { gatewayClustersDir } from "./dask-gateway.js";
import { tryRun } from "./exec.js";
import type { LocalPlacement } from "./placement.js";

export interface PlatformProcess {
  pid: number;
  uid: number;
  command: string;
}

export interface ProcessScope {
  /** uids of the platform's users: their processes that name the platform are its. */
  userUids: Set<number>;
  /** uids whose every process goes (accounts being purged). */
  allOfUids: Set<number>;
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return fallback;
  }
}

function parentOf(pid: number): number | undefined {
  const stat = readOr(`/proc/${pid}/stat`, "");
  const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  return Number.isInteger(ppid) ? ppid : undefined;
}

function selfAndAncestors(): Set<number> {
  const out = new Set<number>();
  let pid: number | undefined = process.pid;
  while (pid !== undefined && pid > 0 && !out.has(pid)) {
    out.add(pid);
    pid = parentOf(pid);
  }
  return out;
}

function zombie(stat: string): boolean {
  return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) === "Z";
}

/** The folders whose mention makes a process the platform's. */
function platformRoots(placement: LocalPlacement): string[] {
  const { prefix, envsDir } = placement.paths;
  return [prefix, envsDir, gatewayClustersDir(placement)];
}

function mentions(text: string, roots: string[]): boolean {
  return roots.some((r) => text === r || text.includes(`${r}/`) || text.endsWith(r));
}

/** Every live process of the platform, as this moment sees it. */
export function findPlatformProcesses(placement: LocalPlacement, scope: ProcessScope): PlatformProcess[] {
  const skip = selfAndAncestors();
  const markers = cgroupMarkers(placement.cgroupParent);
  const roots = platformRoots(placement);
  const found: PlatformProcess[] = [];
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || skip.has(pid)) continue;
    const stat = readOr(`/proc/${pid}/stat`, "");
    if (stat === "" || zombie(stat)) continue;
    const uid = Number(/^Uid:\s+(\d+)/m.exec(readOr(`/proc/${pid}/status`, ""))?.[1]);
    if (!Number.isInteger(uid)) continue;
    const cmdline = readOr(`/proc/${pid}/cmdline`, "").split("\0").filter(Boolean).join(" ");
    // kernel threads have no command line and are never the platform's
    if (cmdline === "") continue;
    const cgroups = readOr(`/proc/${pid}/cgroup`, "");
    let belongs = scope.allOfUids.has(uid) || markers.some((m) => cgroups.includes(m));
    // root's processes only by their command line: an admin's shell in the prefix is not the platform's
    if (!belongs && uid === 0) belongs = mentions(cmdline, roots);
    if (!belongs && scope.userUids.has(uid)) {
      let cwd = "";
      try {
        cwd = readlinkSync(`/proc/${pid}/cwd`);
      } catch {
        // gone meanwhile
      }
      belongs =
        mentions(cmdline, roots) ||
        mentions(cwd, roots) ||
        mentions(readOr(`/proc/${pid}/environ`, ""), roots);
    }
    if (belongs) found.push({ pid, uid, command: cmdline.slice(0, 120) });
  }
  return found;
}

function signal(pids: number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      // gone already
    }
  }
}

async function waitGone(
  placement: LocalPlacement,
  scope: ProcessScope,
  ms: number,
): Promise<PlatformProcess[]> {
  const until = Date.now() + ms;
  for (;;) {
    const left = findPlatformProcesses(placement, scope);
    if (left.length === 0 || Date.now() > until) return left;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Stop every process of the platform: SIGTERM, a grace period, then SIGKILL, and
 * wait until none is left. Returns how many were stopped.
 */
export async function stopPlatformProcesses(
  platform: Platform,
  placement: LocalPlacement,
  scope: ProcessScope,
  graceMs = 10_000,
): Promise<number> {
  const first = findPlatformProcesses(placement, scope);
  if (first.length === 0) return 0;
  signal(
    first.map((p) => p.pid),
    "SIGTERM",
  );
  let left = await waitGone(placement, scope, graceMs);
  // What forked meanwhile is found again: a few rounds of SIGKILL.
  for (let round = 0; round < 3 && left.length > 0; round++) {
    signal(
      left.map((p) => p.pid),
      "SIGKILL",
    );
    left = await waitGone(placement, scope, 5_000);
  }
  if (left.length > 0) {
    throw new AtriumError(
      "apply-failed",
      `these processes of ${platform.project.name} would not stop: ${left
        .map((p) => `pid ${p.pid} (uid ${p.uid}: ${p.command})`)
        .join("; ")}`,
      "look at them with `ps -o pid,stat,user,args -p PID` (a process in state D waits for the kernel), stop them, then run destroy again",
    );
  }
  return first.length;
}

/** uids of the named accounts that exist. */
export async function uidsOf(names: Iterable<string>): Promise<Set<number>> {
  const out = new Set<number>();
  for (const name of names) {
    const uid = Number((await tryRun("getent", ["passwd", name]))?.split(":")[2]);
    if (Number.isInteger(uid) && uid > 0) out.add(uid);
  }
  return out;
}
