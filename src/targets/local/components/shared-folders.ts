/**
 * Group folders: <shared_dir>/<group> owned by root and the group, in the mode the
 * rendered accounts.json gives (sharedMode, 2770), with a default ACL so files made
 * there by Jupyter, terminals or SSH stay group-writable whatever the umask; each
 * member gets ~/shared/<group>, made by the hub glue's account tool (account-tool.ts),
 * which the hub also uses at single sign-on login: it works in ~/shared through the
 * folder opened without following links. Folders of groups that leave the file are
 * kept (data is never deleted); members' links follow the file.
 *
 * What must stay true: a user's own ~/shared never stops a deploy. When it is not a
 * folder (a link elsewhere, a file) or the links cannot be made there, that user's
 * links are skipped, said in the plan and in the deploy's output.
 */
import { existsSync, lstatSync } from "node:fs";
import { posix } from "node:path";
import type { Component } from "../../component.js";
import { runAccountTool } from "../account-tool.js";
import { accountsArtifact, modeOf } from "../artifact-data.js";
import type { LocalContext } from "../context.js";
import { run, tryRun } from "../exec.js";
import { ensureDir } from "../fsutil.js";
import { groupOf, homeOf } from "../placement.js";

async function idOf(kind: "passwd" | "group", name: string): Promise<number> {
  const out = await tryRun("getent", [kind, name]);
  const id = Number(out?.split(":")[2]);
  if (!Number.isInteger(id)) throw new Error(`${kind} ${name} not found after the accounts step`);
  return id;
}

async function ensureFolder(path: string, group: string, mode: number): Promise<void> {
  const gid = await idOf("group", group);
  ensureDir(path, mode, 0, gid);
  await run("setfacl", ["-m", `g:${group}:rwx,d:u::rwx,d:g::rwx,d:g:${group}:rwx,d:m::rwx,d:o::---`, path]);
}

/** Why the user's ~/shared is left alone, or undefined when it is a folder or not there yet. */
export function sharedDirProblem(home: string): string | undefined {
  const dir = posix.join(home, "shared");
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(dir);
  } catch {
    return undefined;
  }
  if (st.isSymbolicLink()) return `${dir} is a link, not a folder`;
  if (!st.isDirectory()) return `${dir} is not a folder`;
  return undefined;
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

export function sharedFoldersComponent(ctx: LocalContext): Component {
  const { groups, users } = ctx.platform;
  const { placement } = ctx;
  const { paths } = placement;
  const shared = groups
    .filter((g) => g.shared)
    .map((g) => ({ ...g, sharedFolder: groupOf(placement, g.name).sharedFolder }));
  const sharedMode = modeOf(accountsArtifact(ctx.artifacts).sharedMode);
  const home = (name: string) => homeOf(placement, name);
  return {
    name: "shared-folders",
    title: "group shared folders and members' links",
    spec: {
      root: paths.sharedDir,
      folders: shared.map((g) => ({ group: g.name, path: g.sharedFolder, members: g.members })),
    },
    present: () =>
      shared.every(
        (g) =>
          g.sharedFolder !== null &&
          existsSync(g.sharedFolder) &&
          g.members.every(
            (m) => sharedDirProblem(home(m)) !== undefined || isLink(posix.join(home(m), "shared", g.name)),
          ),
      ),
    warnings: () =>
      users.flatMap((u) => {
        const problem = shared.some((g) => u.groups.includes(g.name))
          ? sharedDirProblem(home(u.name))
          : undefined;
        return problem ? [`${u.name}'s group links will be skipped: ${problem}`] : [];
      }),
    async apply(_previous, progress) {
      ensureDir(paths.sharedDir, 0o755);
      for (const g of shared) if (g.sharedFolder) await ensureFolder(g.sharedFolder, g.name, sharedMode);
      const links = users.map((u) => ({
        name: u.name,
        home: home(u.name),
        folders: Object.fromEntries(
          shared
            .filter((g) => u.groups.includes(g.name) && g.sharedFolder)
            .map((g) => [g.name, g.sharedFolder ?? ""]),
        ),
      }));
      await runAccountTool(
        placement,
        { op: "links", shared_dir: paths.sharedDir, users: links },
        { progress },
      );
      return { note: `${shared.length} folders` };
    },
  };
}
