/**
 * Each build's own cgroup: `<parent>/<name>` in the v1 memory, cpu and (when
 * mounted) freezer and pids controllers, below Atrium's cgroup. Root makes it before
 * the first step; each step's first process joins it while still root, before it
 * becomes the build account (see builder.ts), so everything a step starts is inside,
 * whatever session or process group it moves to, and the build account can't move
 * anything out (the groups' files are root's). At the end of each step and of the
 * build every process in it is killed (frozen first, so none can fork meanwhile) and
 * the group is removed.
 *
 * Must stay true: when `kill` returns, the group has no process left, or it throws.
 * Where cgroup v1 is not there (cgroup v2, a machine without the controllers) builds
 * fall back to their process group, and the build log says so.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const CONTROLLERS = ["memory", "cpu", "freezer", "pids"] as const;
const REQUIRED = ["memory", "cpu"];

export interface BuildCgroupPlace {
  v1Root: string;
  parent: string;
}

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/** Why builds can't have their own cgroups here, or undefined when they can. */
export function cgroupsMissing(place: BuildCgroupPlace): string | undefined {
  if (existsSync(join(place.v1Root, "cgroup.controllers"))) return "cgroup v2 (builds need cgroup v1 here)";
  const missing = REQUIRED.filter((c) => !existsSync(join(place.v1Root, c)));
  return missing.length > 0 ? `cgroup v1 controllers missing: ${missing.join(", ")}` : undefined;
}

export class BuildCgroup {
  private constructor(private readonly dirs: Map<string, string>) {}

  /** Make `<parent>/<name>` in every controller there is; throws when it can't. */
  static create(place: BuildCgroupPlace, name: string): BuildCgroup {
    const dirs = new Map<string, string>();
    for (const c of CONTROLLERS) {
      if (!existsSync(join(place.v1Root, c))) continue;
      const dir = join(place.v1Root, c, place.parent, name);
      mkdirSync(dir, { recursive: true });
      dirs.set(c, dir);
    }
    return new BuildCgroup(dirs);
  }

  /** The cgroup.procs files a step's first process writes its pid to. */
  get procsFiles(): string[] {
    return [...this.dirs.values()].map((d) => join(d, "cgroup.procs"));
  }

  /** Pids in the group (the memory controller's view, which every step joins). */
  members(): number[] {
    const dir = this.dirs.get("memory") ?? [...this.dirs.values()][0];
    if (!dir) return [];
    try {
      return readFileSync(join(dir, "cgroup.procs"), "utf8").split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  }

  /** Kill every process in the group; returns how many there were. */
  async kill(): Promise<number> {
    if (this.members().length === 0) return 0;
    const freezer = this.dirs.get("freezer");
    if (freezer) await setFreezer(freezer, "FROZEN");
    let killed = 0;
    try {
      for (let round = 0; round < 100; round++) {
        const pids = this.members();
        if (pids.length === 0) return killed;
        if (round === 0) killed = pids.length;
        for (const pid of pids) {
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            // gone meanwhile
          }
        }
        // A frozen process dies when thawed: thaw, and freeze again for the next look.
        if (freezer) await setFreezer(freezer, "THAWED");
        await sleep(20);
        if (freezer && this.members().length > 0) await setFreezer(freezer, "FROZEN");
      }
    } finally {
      if (freezer) await setFreezer(freezer, "THAWED").catch(() => {});
    }
    throw new Error(`processes of the build are still running: ${this.members().join(" ")}`);
  }

  /** Kill what is left and remove the group. */
  async remove(): Promise<void> {
    await this.kill();
    for (const dir of this.dirs.values()) {
      try {
        rmdirSync(dir);
      } catch {
        // already gone
      }
    }
  }
}

async function setFreezer(dir: string, state: "FROZEN" | "THAWED"): Promise<void> {
  writeFileSync(join(dir, "freezer.state"), state);
  for (let i = 0; i < 100; i++) {
    if (readFileSync(join(dir, "freezer.state"), "utf8").trim() === state) return;
    await sleep(10);
  }
}

/** After a restart: end every build group a stopped service left behind. */
export async function removeLeftoverCgroups(place: BuildCgroupPlace): Promise<string[]> {
  if (cgroupsMissing(place)) return [];
  const names = new Set<string>();
  for (const c of CONTROLLERS) {
    const dir = join(place.v1Root, c, place.parent);
    try {
      for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) names.add(e.name);
    } catch {
      // no builds yet
    }
  }
  for (const name of names) await BuildCgroup.create(place, name).remove();
  return [...names].sort();
}
