/**
 * Group folders: <shared_dir>/<group> owned by root and the group, in the mode the
 * rendered accounts.json gives (sharedMode, 2770), with a default ACL so files made
 * there by Jupyter, terminals or SSH stay group-writable whatever the umask; each
 * member gets ~/shared/<group>. Folders of groups that
 * leave the file are kept (data is never deleted); members' links follow the file.
 *
 * What must stay true: a user's own ~/shared never stops a deploy. When it is not a
 * folder (a link elsewhere, a file) or the links cannot be made there, that user's
 * links are skipped, said in the plan and in the deploy's output.
 */
import { existsSync, lstatSync } from "node:fs";
import { posix } from "node:path";
import type { Component, Progress } from "../../component.js";
import type { AccountsSpec } from "../accounts-spec.js";
import { ACCOUNTS_FILE, artifactJson, modeOf } from "../artifact-data.js";
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

/**
 * The links are made by the user's own account, not by root: ~/shared is the user's to
 * change (even into a link to somewhere else), so nothing done there may carry root's
 * rights. The script takes the folder, the shared root and `group=target` pairs.
 */
const LINKS_SCRIPT = `set -eu
dir=$1; root=$2; shift 2
mkdir -p "$dir"
for pair in "$@"; do
  name=\${pair%%=*}; target=\${pair#*=}
  link="$dir/$name"
  if [ -L "$link" ] && [ "$(readlink "$link")" = "$target" ]; then continue; fi
  if [ -L "$link" ]; then rm -f "$link"; fi
  if [ -e "$link" ]; then echo "kept $link: not a link made by Atrium"; continue; fi
  ln -s "$target" "$link" && echo "$link -> $target"
done
for link in "$dir"/*; do
  [ -L "$link" ] || continue
  case "$(readlink "$link")" in "$root"/*) ;; *) continue ;; esac
  keep=no
  for pair in "$@"; do [ "\${pair%%=*}" = "$(basename "$link")" ] && keep=yes; done
  if [ "$keep" = no ]; then rm -f "$link" && echo "$link removed"; fi
done
`;

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

/** Make ~/shared/<group> links for exactly the user's shared groups, as the user; leave anything else alone. */
async function syncLinks(
  user: { name: string; home: string },
  folders: Map<string, string>,
  sharedDir: string,
  progress: Progress,
): Promise<void> {
  if (!existsSync(user.home)) return;
  const problem = sharedDirProblem(user.home);
  if (problem) {
    progress.important(`skipped ${user.name}'s group links: ${problem} (make it a folder and deploy again)`);
    return;
  }
  const pairs = [...folders].map(([group, target]) => `${group}=${target}`);
  const uid = await idOf("passwd", user.name);
  const gid = Number((await tryRun("id", ["-g", user.name]))?.trim());
  const out = await tryRun("setpriv", [
    `--reuid=${uid}`,
    `--regid=${gid}`,
    "--init-groups",
    "/bin/sh",
    "-c",
    LINKS_SCRIPT,
    "atrium-links",
    posix.join(user.home, "shared"),
    sharedDir,
    ...pairs,
  ]);
  if (out === undefined) {
    progress.important(`skipped ${user.name}'s group links: they could not be made in ${user.home}/shared`);
    return;
  }
  for (const line of out.split("\n")) if (line.trim()) progress.detail(line.trim());
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
  const sharedMode = modeOf(artifactJson<AccountsSpec>(ctx.artifacts, ACCOUNTS_FILE).sharedMode);
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
      for (const u of users) {
        const mine = new Map(
          shared
            .filter((g) => u.groups.includes(g.name))
            .map((g) => [g.name, g.sharedFolder ?? ""] as [string, string]),
        );
        await syncLinks({ name: u.name, home: home(u.name) }, mine, paths.sharedDir, progress);
      }
      return { note: `${shared.length} folders` };
    },
  };
}
