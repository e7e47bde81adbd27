/**
 * cgroups on the local target. Atrium keeps its processes under its own cgroup,
 * `atrium/<project>`, with `platform` for the supervisor, proxy, hub and services
 * and `users/<name>` for user servers (made by the hub's spawner). On cgroup v1 the
 * memory and cpu controllers are written directly; on a systemd host with cgroup v2,
 * systemd's delegation is used instead (see python/atrium_hub/spawner.py).
 */
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";

export const CGROUP_ROOT = "/sys/fs/cgroup";
export const V1_CONTROLLERS = ["memory", "cpu"] as const;
/** What destroy removes: also the devices groups the hub makes for servers on a machine with GPUs. */
const V1_REMOVED = [...V1_CONTROLLERS, "devices"] as const;

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

/** One unit-name component escaped as `systemd-escape` does (as the hub glue's cgroups.py). */
export function systemdEscape(text: string): string {
  let out = "";
  for (const [i, ch] of [...text].entries()) {
    if (/^[A-Za-z0-9:_]$/.test(ch) || (ch === "." && i > 0)) out += ch;
    else if (ch === "/") out += "-";
    else for (const b of Buffer.from(ch)) out += `\\x${b.toString(16).padStart(2, "0")}`;
  }
  return out;
}

/** `atrium/team` -> `atrium-team.slice`: the systemd slice of a cgroup path (cgroup v2). */
export function sliceName(parent: string): string {
  return `${parent.split("/").map(systemdEscape).join("-")}.slice`;
}

/** The slice's folder in the v2 hierarchy: nested slices, one per prefix of the name. */
function sliceCgroupPath(parent: string): string {
  const parts = parent.split("/");
  return parts.map((_, i) => sliceName(parts.slice(0, i + 1).join("/"))).join("/");
}

/**
 * Text that appears in /proc/<pid>/cgroup of every process inside `parent` (and
 * below): the v1 controller paths and the v2 slice path.
 */
export function cgroupMarkers(parent: string): string[] {
  return [`:/${parent}/`, `:/${parent}\n`, `::/${sliceCgroupPath(parent)}/`];
}

/** The platform's cgroup folders that exist (v1 controllers; v2 slices are systemd's). */
export function existingCgroups(parent: string, root = CGROUP_ROOT): string[] {
  return V1_REMOVED.map((c) => join(root, c, parent)).filter((d) => existsSync(d));
}

function removeTree(dir: string): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) removeTree(join(dir, e.name));
  }
  rmdirSync(dir);
}

/**
 * Remove `parent` and everything below it in each v1 controller, deepest first
 * (a cgroup folder goes with rmdir once it has no processes and no children), and
 * the folders above it that are left empty. A group whose last process is still
 * exiting is busy for a moment, so each is tried for a few seconds. Returns what
 * could not be removed.
 */
export async function removeCgroups(parent: string, root = CGROUP_ROOT): Promise<string[]> {
  const left: string[] = [];
  for (const c of V1_REMOVED) {
    const dir = join(root, c, parent);
    if (!existsSync(dir)) continue;
    let error: NodeJS.ErrnoException | undefined;
    for (let attempt = 0; attempt < 25; attempt++) {
      try {
        removeTree(dir);
        error = undefined;
        break;
      } catch (err) {
        error = err as NodeJS.ErrnoException;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    if (error) {
      left.push(`${dir} (${error.code ?? error.message})`);
      continue;
    }
    for (let up = dirname(dir); up.length > join(root, c).length; up = dirname(up)) {
      try {
        rmdirSync(up);
      } catch {
        break; // another platform's cgroups live there
      }
    }
  }
  return left;
}
