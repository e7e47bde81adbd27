/**
 * Group folders: <shared_dir>/<group> owned by root and the group, mode 2770, with
 * a default ACL so files made there by Jupyter, terminals or SSH stay group-writable
 * whatever the umask; each member gets ~/shared/<group>. Folders of groups that
 * leave the file are kept (data is never deleted); members' links follow the file.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, rmSync, symlinkSync } from "node:fs";
import { posix } from "node:path";
import type { Component, Progress } from "../../../deploy/component.js";
import type { LocalContext } from "../context.js";
import { run, tryRun } from "../exec.js";
import { ensureDir } from "../fsutil.js";

async function idOf(kind: "passwd" | "group", name: string): Promise<number> {
  const out = await tryRun("getent", [kind, name]);
  const id = Number(out?.split(":")[2]);
  if (!Number.isInteger(id)) throw new Error(`${kind} ${name} not found after the accounts step`);
  return id;
}

async function ensureFolder(path: string, group: string): Promise<void> {
  const gid = await idOf("group", group);
  ensureDir(path, 0o2770, 0, gid);
  await run("setfacl", ["-m", `g:${group}:rwx,d:u::rwx,d:g::rwx,d:g:${group}:rwx,d:m::rwx,d:o::---`, path]);
}

/** Make ~/shared/<group> links for exactly the user's shared groups; leave anything else alone. */
async function syncLinks(
  user: { name: string; home: string },
  folders: Map<string, string>,
  sharedDir: string,
  progress: Progress,
): Promise<void> {
  if (!existsSync(user.home)) return;
  const uid = await idOf("passwd", user.name);
  const gid = Number((await tryRun("id", ["-g", user.name]))?.trim());
  const dir = posix.join(user.home, "shared");
  mkdirSync(dir, { recursive: true });
  ensureDir(dir, 0o755, uid, gid);
  for (const [group, target] of folders) {
    const link = posix.join(dir, group);
    const current = existsOrLink(link) ? safeReadlink(link) : undefined;
    if (current === target) continue;
    if (current !== undefined) rmSync(link, { force: true });
    if (existsOrLink(link)) continue; // something the user made; not ours to replace
    symlinkSync(target, link);
    await run("chown", ["-h", `${uid}:${gid}`, link]);
    progress.detail(`${link} -> ${target}`);
  }
  for (const name of readdirSync(dir)) {
    const link = posix.join(dir, name);
    const target = safeReadlink(link);
    if (target?.startsWith(`${sharedDir}/`) && !folders.has(name)) {
      rmSync(link, { force: true });
      progress.detail(`${link} removed`);
    }
  }
}

function existsOrLink(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

function safeReadlink(p: string): string | undefined {
  try {
    return readlinkSync(p);
  } catch {
    return undefined;
  }
}

export function sharedFoldersComponent(ctx: LocalContext): Component {
  const { groups, users, paths } = ctx.platform;
  const shared = groups.filter((g) => g.sharedFolder !== null);
  return {
    name: "shared-folders",
    title: "group shared folders and members' links",
    spec: {
      root: paths.sharedDir,
      folders: shared.map((g) => ({ group: g.name, path: g.sharedFolder, members: g.members })),
    },
    present: () => shared.every((g) => g.sharedFolder !== null && existsSync(g.sharedFolder)),
    async apply(_previous, progress) {
      ensureDir(paths.sharedDir, 0o755);
      for (const g of shared) if (g.sharedFolder) await ensureFolder(g.sharedFolder, g.name);
      for (const u of users) {
        const mine = new Map(
          shared
            .filter((g) => u.groups.includes(g.name))
            .map((g) => [g.name, g.sharedFolder ?? ""] as [string, string]),
        );
        await syncLinks(u, mine, paths.sharedDir, progress);
      }
      return { note: `${shared.length} folders` };
    },
  };
}
