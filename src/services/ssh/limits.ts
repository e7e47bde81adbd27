/**
 * Sessions run inside the cgroup limits of the user's default profile. On cgroup
 * v1 each user gets `<parent>/<name>.ssh` in the memory and cpu controllers, next
 * to (never inside) the group of their Jupyter server `<parent>/<name>`: stopping
 * the server empties its group, and must not end SSH sessions. A dot cannot occur
 * in a platform user name, so `<name>.ssh` never clashes with a server's group.
 * The writes follow the hub glue's (python/atrium_hub/cgroups.py): memory and
 * swap limited together, OOM killer kept on, CFS quota for the CPU limit, shares
 * for the guarantee, and a pids limit (`pids.max`) where the v1 pids controller is
 * mounted, so a fork bomb stops at the profile's count. Elsewhere (cgroup v2, nothing writable) sessions run without
 * limits, and the gateway says why in its status.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SshLimits } from "../../contracts/ssh-service.js";

const CFS_PERIOD_US = 100_000;
const CPU_SHARES_DEFAULT = 1024;

export function memoryWrites(limits: SshLimits, hasMemsw: boolean): Array<[string, string]> {
  const limit = limits.mem_limit ? String(limits.mem_limit) : "-1";
  const writes: Array<[string, string]> = [];
  // The kernel wants memsw >= memory at every step: lift memsw, set memory, then lower memsw.
  if (hasMemsw) writes.push(["memory.memsw.limit_in_bytes", "-1"]);
  writes.push(["memory.limit_in_bytes", limit]);
  if (hasMemsw && limits.mem_limit) writes.push(["memory.memsw.limit_in_bytes", limit]);
  writes.push(["memory.soft_limit_in_bytes", limits.mem_guarantee ? String(limits.mem_guarantee) : "-1"]);
  writes.push(["memory.oom_control", "0"]);
  return writes;
}

export function cpuWrites(limits: SshLimits): Array<[string, string]> {
  const quota = limits.cpu_limit
    ? String(Math.max(1000, Math.round(limits.cpu_limit * CFS_PERIOD_US)))
    : "-1";
  const shares = limits.cpu_guarantee
    ? Math.max(2, Math.round(limits.cpu_guarantee * CPU_SHARES_DEFAULT))
    : CPU_SHARES_DEFAULT;
  return [
    ["cpu.cfs_period_us", String(CFS_PERIOD_US)],
    ["cpu.cfs_quota_us", quota],
    ["cpu.shares", String(shares)],
  ];
}

export function pidsWrites(limits: SshLimits): Array<[string, string]> {
  return [["pids.max", String(limits.pids_limit)]];
}

export class SessionCgroups {
  /** Why sessions run without limits, or "" when they get them. */
  readonly off: string;
  private readonly ready = new Map<string, string[]>();

  constructor(
    private readonly root: string,
    private readonly parent: string,
  ) {
    if (existsSync(join(root, "cgroup.controllers"))) {
      this.off = "cgroup v2: session limits need cgroup v1 here";
    } else if (!existsSync(join(root, "memory")) || !existsSync(join(root, "cpu"))) {
      this.off = "the cgroup v1 memory and cpu controllers are not mounted";
    } else {
      this.off = "";
    }
  }

  /**
   * The cgroup.procs files a session of `user` must join, after creating the groups
   * and writing the limits (once per gateway run); [] when limits are off or failed.
   */
  procsFiles(user: string, limits: SshLimits, warn: (line: string) => void): string[] {
    if (this.off) return [];
    const known = this.ready.get(user);
    if (known) return known;
    const leaf = `${user}.ssh`;
    const dirs: Record<string, string> = {
      memory: join(this.root, "memory", this.parent, leaf),
      cpu: join(this.root, "cpu", this.parent, leaf),
    };
    const pids = join(this.root, "pids");
    if (existsSync(pids)) dirs.pids = join(pids, this.parent, leaf);
    try {
      for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
      const memory = dirs.memory as string;
      const hasMemsw = existsSync(join(memory, "memory.memsw.limit_in_bytes"));
      for (const [file, value] of memoryWrites(limits, hasMemsw)) writeFileSync(join(memory, file), value);
      for (const [file, value] of cpuWrites(limits)) writeFileSync(join(dirs.cpu as string, file), value);
      if (dirs.pids)
        for (const [file, value] of pidsWrites(limits)) writeFileSync(join(dirs.pids, file), value);
    } catch (err) {
      warn(`no limits for ${user}'s sessions: ${(err as Error).message}`);
      return [];
    }
    const files = Object.values(dirs).map((d) => join(d, "cgroup.procs"));
    this.ready.set(user, files);
    return files;
  }
}
