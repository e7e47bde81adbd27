/**
 * cgroups on the local target. Atrium keeps its processes under its own cgroup,
 * `atrium/<project>`, with `platform` for the supervisor, proxy, hub and services
 * and `users/<name>` for user servers (made by the hub's spawner). On cgroup v1 the
 * memory and cpu controllers are written directly; on a systemd host with cgroup v2,
 * systemd's delegation is used instead (see python/atrium_hub/spawner.py).
 */
import { accessSync, constants, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const CGROUP_ROOT = "/sys/fs/cgroup";
export const V1_CONTROLLERS = ["memory", "cpu"] as const;

export type CgroupMode = "v1" | "v2-systemd" | "off";

export interface CgroupSupport {
  mode: CgroupMode;
  /** Why limits are off, when they are. */
  reason?: string;
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** What this machine allows, checked by trying to create Atrium's cgroup. */
export function detectCgroups(parent: string, root = CGROUP_ROOT): CgroupSupport {
  if (existsSync(join(root, "cgroup.controllers"))) {
    if (existsSync("/run/systemd/system")) return { mode: "v2-systemd" };
    return { mode: "off", reason: "cgroup v2 without systemd: Atrium does not write behind the host's back" };
  }
  const missing = V1_CONTROLLERS.filter((c) => !existsSync(join(root, c)));
  if (missing.length > 0)
    return { mode: "off", reason: `cgroup v1 controllers missing: ${missing.join(", ")}` };
  for (const c of V1_CONTROLLERS) {
    const dir = join(root, c, parent);
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      return {
        mode: "off",
        reason: `can't create ${dir}: ${(err as NodeJS.ErrnoException).code ?? "error"}`,
      };
    }
    if (!writable(join(dir, "cgroup.procs"))) return { mode: "off", reason: `${dir} is not writable` };
  }
  return { mode: "v1" };
}

/** Move a process into `<parent>` in each v1 controller; returns where it went, or why not. */
export function joinCgroup(parent: string, pid: number, root = CGROUP_ROOT): string {
  if (existsSync(join(root, "cgroup.controllers"))) return "unchanged (cgroup v2)";
  try {
    for (const c of V1_CONTROLLERS) {
      const dir = join(root, c, parent);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "cgroup.procs"), `${pid}\n`);
    }
    return parent;
  } catch (err) {
    return `unchanged (${(err as Error).message})`;
  }
}

/** The memory limit a v1 cgroup has, for status output and tests. */
export function memoryLimit(path: string, root = CGROUP_ROOT): number | undefined {
  try {
    return Number(readFileSync(join(root, "memory", path, "memory.limit_in_bytes"), "utf8").trim());
  } catch {
    return undefined;
  }
}
