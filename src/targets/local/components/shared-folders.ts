/**
 * Group folders: <shared_dir>/<group> owned by root and the group, mode 2770, with
 * a default ACL so files made there by Jupyter, terminals or SSH stay group-writable
 * whatever the umask; each member gets ~/shared/<group>. Folders of groups that
 * leave the file are kept (data is never deleted); members' links follow the file.
 */
import { existsSync, lstatSync } from "node:fs";
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

/** Make ~/shared/<group> links for exactly the user's shared groups, as the user; leave anything else alone. */
async function syncLinks(
  user: { name: string; home: string },
  folders: Map<string, string>,
  sharedDir: string,
  progress: Progress,
): Promise<void> {
  if (!existsSync(user.home)) return;
  const pairs = [...folders].map(([group, target]) => `${group}=${target}`);
  const uid = await idOf("passwd", user.name);
  const gid = Number((await tryRun("id", ["-g", user.name]))?.trim());
  const out = await run("setpriv", [
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
  for (const line of out.stdout.split("\n")) if (line.trim()) progress.detail(line.trim());
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
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
    present: () =>
      shared.every(
        (g) =>
          g.sharedFolder !== null &&
          existsSync(g.sharedFolder) &&
          g.members.every((m) => isLink(posix.join(paths.homeDir, m, "shared", g.name))),
      ),
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
