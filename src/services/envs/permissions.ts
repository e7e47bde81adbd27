/**
 * Who may see, use and edit which namespace. Pure: the caller and the hub's users
 * and groups in, yes or no out.
 *
 * - `global`: everyone uses; admins edit.
 * - a group's namespace (named like the group): members use; members edit, or
 *   admins only when the namespace says `editors: admins`.
 * - a user's namespace (named like the user): the owner only.
 * Admins (hub admins and admin services) may see and edit every namespace, as they
 * may act for any user in the hub; using (kernels, Dask) stays as above.
 */
import type { NamespaceKind } from "../../contracts/envs-api.js";
import type { GroupEditors } from "./config.js";

export const GLOBAL = "global";

export interface Person {
  name: string;
  kind: string;
  admin: boolean;
  groups: readonly string[];
}

/** The hub's users (with admin flag and groups) and group names. */
export interface Directory {
  users: ReadonlyMap<string, { admin: boolean; groups: readonly string[] }>;
  groups: ReadonlySet<string>;
}

/** What a namespace name is; a user's name wins over a group of the same name. */
export function namespaceKind(ns: string, dir: Directory): NamespaceKind | undefined {
  if (ns === GLOBAL) return "global";
  if (dir.users.has(ns)) return "user";
  if (dir.groups.has(ns)) return "group";
  return undefined;
}

/**
 * A member only while both the hub's directory (refreshed every 30 s and at each
 * deploy) and the hub's answer for this very request (the caller's own token or
 * session) say so: a user a deploy removed from a group loses its rights as soon
 * as either knows, and no caller gains a group the directory does not give them.
 */
function isMember(person: Person, group: string, dir: Directory): boolean {
  const known = dir.users.get(person.name);
  return person.groups.includes(group) && (known === undefined || known.groups.includes(group));
}

/** May use the namespace's environments (kernels, Dask workers). */
export function mayUse(person: Person, ns: string, kind: NamespaceKind, dir: Directory): boolean {
  if (person.kind !== "user") return false;
  if (kind === "global") return true;
  if (kind === "user") return person.name === ns;
  return isMember(person, ns, dir);
}

/** May see the namespace, its environments, builds, logs and lockfiles. */
export function mayView(person: Person, ns: string, kind: NamespaceKind, dir: Directory): boolean {
  return person.admin || mayUse(person, ns, kind, dir);
}

/** May create, rebuild, switch and delete the namespace's environments. */
export function mayEdit(
  person: Person,
  ns: string,
  kind: NamespaceKind,
  dir: Directory,
  editors: GroupEditors,
): boolean {
  if (person.admin) return true;
  if (kind === "global") return false;
  if (kind === "user") return person.kind === "user" && person.name === ns;
  return editors === "members" && mayUse(person, ns, kind, dir);
}

/** Namespaces the person may see, global first, then groups and users by name. */
export function visibleNamespaces(person: Person, dir: Directory): string[] {
  const all = [
    GLOBAL,
    ...[...dir.groups].filter((g) => !dir.users.has(g)).sort(),
    ...[...dir.users.keys()].sort(),
  ];
  const seen = new Set<string>();
  return all.filter((ns) => {
    if (seen.has(ns)) return false;
    seen.add(ns);
    const kind = namespaceKind(ns, dir);
    return kind !== undefined && mayView(person, ns, kind, dir);
  });
}

/** Who may use a namespace's environments: null for everyone, else user names. */
export function usersOf(ns: string, kind: NamespaceKind, dir: Directory): string[] | null {
  if (kind === "global") return null;
  if (kind === "user") return [ns];
  return [...dir.users]
    .filter(([, u]) => u.groups.includes(ns))
    .map(([name]) => name)
    .sort();
}

/** The namespace a caller's new environments go to when none is named. */
export function primaryNamespace(person: Person): string {
  return person.kind === "user" ? person.name : GLOBAL;
}
