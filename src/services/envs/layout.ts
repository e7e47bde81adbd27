/**
 * Where environments live on disk, and who may read them:
 *
 *   <envs_dir>/<namespace>/<env>/current -> builds/<id>/env   (switched atomically)
 *   <envs_dir>/<namespace>/<env>/builds/<id>/{env/, build.log, lock.txt, spec.yaml, requirements.in, constraints.txt}
 *   <envs_dir>/.kernels/<user>/kernels/<kernel>/kernel.json
 *   <envs_dir>/.atrium/state.json                              (root only)
 *
 * Must stay true: everything is owned by root except a build's env/ folder while
 * it is being built (owned by the build account); a group's namespace is readable
 * by its members only and a user's by that user only (POSIX ACLs on a root 0750
 * folder, or, where there are no ACL tools (a container), a root:<group> 0750 folder
 * whose group is the namespace's or the user's own), plus the build account, which
 * must reach the folder it builds into (an ACL entry, or membership in every group).
 */
import { execFile } from "node:child_process";
import { chmodSync, mkdirSync, renameSync, rmSync, statSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import type { NamespaceKind } from "../../contracts/envs-api.js";
import type { FolderAccess } from "../../contracts/envs-service.js";

const exec = promisify(execFile);

export class Layout {
  constructor(readonly envsDir: string) {}

  namespaceDir(ns: string): string {
    return join(this.envsDir, ns);
  }

  envDir(ns: string, name: string): string {
    return join(this.envsDir, ns, name);
  }

  current(ns: string, name: string): string {
    return join(this.envDir(ns, name), "current");
  }

  buildDir(ns: string, name: string, id: number): string {
    return join(this.envDir(ns, name), "builds", String(id));
  }

  file(ns: string, name: string, id: number, file: BuildFile): string {
    return join(this.buildDir(ns, name, id), file);
  }
}

export type BuildFile =
  | "env"
  | "build.log"
  | "lock.txt"
  | "spec.yaml"
  | "requirements.in"
  | "constraints.txt";

/** Point `link` at `target` (relative to the link's folder) in one rename. */
export function switchLink(link: string, target: string): void {
  const tmp = `${link}.tmp-${process.pid}`;
  rmSync(tmp, { force: true });
  symlinkSync(target, tmp);
  renameSync(tmp, link);
}

export function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * A root-owned folder readable by exactly the given users and groups (and root):
 * mode 0750 with ACL entries, or 0755 when `everyone`.
 */
const prepared = new Map<string, string>();
let access: { mode: FolderAccess; buildAccount: string } = { mode: "acl", buildAccount: "" };

/** How ensureReadableBy keeps folders to their readers (the service's config says, once, at start). */
export function setFolderAccess(mode: FolderAccess, buildAccount: string): void {
  access = { mode, buildAccount };
  prepared.clear();
}

/**
 * The one group that stands for a folder's readers when folders are kept by their group:
 * a group namespace's group, or a user's own group (named after the user). The build
 * account reads every namespace by being a member of every group.
 */
export function owningGroup(readers: { users?: readonly string[]; groups?: readonly string[] }): string {
  const people = (readers.users ?? []).filter((u) => u !== access.buildAccount);
  const groups = [...(readers.groups ?? []), ...people];
  const [group] = groups;
  if (group === undefined || groups.length > 1) {
    throw new Error(
      `a folder kept by its group has one reader group; asked for ${groups.join(", ") || "none"}`,
    );
  }
  return group;
}

export async function ensureReadableBy(
  path: string,
  readers: { everyone?: boolean; users?: readonly string[]; groups?: readonly string[] },
): Promise<void> {
  const want = JSON.stringify(readers);
  if (prepared.get(path) === want && isDir(path)) return;
  mkdirSync(path, { recursive: true, mode: 0o755 });
  prepared.delete(path);
  if (readers.everyone) {
    chmodSync(path, 0o755);
    prepared.set(path, want);
    return;
  }
  if (access.mode === "group") {
    // chown resolves the name in the pod's group file; mode last, so nothing is open meanwhile
    await exec("chown", [`0:${owningGroup(readers)}`, path]);
    chmodSync(path, 0o750);
    prepared.set(path, want);
    return;
  }
  chmodSync(path, 0o750);
  const entries = [
    ...(readers.users ?? []).map((u) => `u:${u}:r-x`),
    ...(readers.groups ?? []).map((g) => `g:${g}:r-x`),
  ];
  // --set replaces the ACL, so someone who lost access (left a group) loses it here too.
  await exec("setfacl", ["--set", ["u::rwx", "g::---", "o::---", "m::r-x", ...entries].join(","), path]);
  prepared.set(path, want);
}

/** Who may read a namespace's folder on disk. */
export function namespaceReaders(
  ns: string,
  kind: NamespaceKind,
  buildAccount: string,
): { everyone?: boolean; users?: string[]; groups?: string[] } {
  if (kind === "global") return { everyone: true };
  if (kind === "group") return { users: [buildAccount], groups: [ns] };
  return { users: [buildAccount, ns] };
}
