/**
 * Linux accounts, as the rendered accounts.json lists them: groups and users named
 * exactly as in the file, homes in its homeMode (0700),
 * uid/gid as given, Linux passwords locked (login checks the hub's hashes, so the
 * host's own sshd never accepts these accounts by password). Membership in the
 * platform's groups follows the file, removals included. The state remembers which
 * accounts Atrium created, so `destroy --purge` removes only those.
 */
import { chmodSync, existsSync, statSync } from "node:fs";
import { AtriumError } from "../../../errors.js";
import type { Component, Progress, StateEntry } from "../../component.js";
import type { AccountsSpec } from "../accounts-spec.js";
import { ACCOUNTS_FILE, artifactJson, modeOf } from "../artifact-data.js";
import type { LocalContext } from "../context.js";
import { run, tryRun } from "../exec.js";

export interface AccountsData {
  createdUsers: string[];
  createdGroups: string[];
  /** Users and groups the file named at the last deploy. */
  managedUsers: string[];
  managedGroups: string[];
}

interface Entry {
  name: string;
  id: number;
}

async function getent(db: "passwd" | "group", name: string): Promise<Entry | undefined> {
  const out = await tryRun("getent", [db, name]);
  if (!out) return undefined;
  const fields = out.trim().split(":");
  return { name, id: Number(fields[2]) };
}

async function supplementaryGroups(user: string): Promise<string[]> {
  const out = await tryRun("id", ["-Gn", user]);
  return out ? out.trim().split(/\s+/) : [];
}

function readData(previous: StateEntry | undefined): AccountsData {
  const d = previous?.data as Partial<AccountsData> | undefined;
  return {
    createdUsers: d?.createdUsers ?? [],
    createdGroups: d?.createdGroups ?? [],
    managedUsers: d?.managedUsers ?? [],
    managedGroups: d?.managedGroups ?? [],
  };
}

type AccountUser = AccountsSpec["users"][number];

async function ensureGroup(name: string, gid: number | null, data: AccountsData, progress: Progress) {
  const existing = await getent("group", name);
  if (existing) {
    if (gid !== null && existing.id !== gid) {
      throw new AtriumError(
        "apply-failed",
        `group ${name} exists with gid ${existing.id}, but the file asks for ${gid}`,
        `remove gid from the file, or change the group's gid by hand (groupmod -g ${gid} ${name})`,
      );
    }
    return;
  }
  // Recorded before groupadd runs, so a deploy killed right after it still knows the
  // group is Atrium's (destroy --purge removes only those).
  data.createdGroups = [...new Set([...data.createdGroups, name])];
  progress.checkpoint?.(data);
  await run("groupadd", gid !== null ? ["-g", String(gid), name] : [name]);
  progress.detail(`group ${name} created`);
}

async function ensureUser(user: AccountUser, homeMode: number, data: AccountsData, progress: Progress) {
  const existing = await getent("passwd", user.name);
  if (existing) {
    if (user.uid !== null && existing.id !== user.uid) {
      throw new AtriumError(
        "apply-failed",
        `user ${user.name} exists with uid ${existing.id}, but the file asks for ${user.uid}`,
        "remove uid from the file, or change the account's uid by hand",
      );
    }
    await run("usermod", ["-s", user.shell, user.name]);
  } else {
    // A group of the user's own name that already exists (made by the file or by hand) becomes the primary group.
    const ownGroup = await getent("group", user.name);
    const args = ["-m", "-d", user.home, "-s", user.shell, ...(ownGroup ? ["-g", user.name] : ["-U"])];
    if (user.uid !== null) args.push("-u", String(user.uid));
    // Recorded first, as for groups above.
    data.createdUsers = [...new Set([...data.createdUsers, user.name])];
    progress.checkpoint?.(data);
    await run("useradd", [...args, user.name]);
    progress.detail(`user ${user.name} created`);
  }
  // The Linux password stays locked: logins go through the hub.
  await run("usermod", ["-L", user.name]);
  if (existsSync(user.home) && (statSync(user.home).mode & 0o777) !== homeMode)
    chmodSync(user.home, homeMode);
}

async function syncMembership(user: string, wanted: string[], managed: Set<string>, progress: Progress) {
  const current = new Set(await supplementaryGroups(user));
  for (const g of wanted) {
    if (!current.has(g)) {
      await run("gpasswd", ["-a", user, g]);
      progress.detail(`${user} added to ${g}`);
    }
  }
  for (const g of current) {
    if (managed.has(g) && !wanted.includes(g) && g !== user) {
      await run("gpasswd", ["-d", user, g]);
      progress.detail(`${user} removed from ${g}`);
    }
  }
}

export function accountsComponent(ctx: LocalContext): Component {
  const accounts = artifactJson<AccountsSpec>(ctx.artifacts, ACCOUNTS_FILE);
  const { users, groups } = accounts;
  const homeMode = modeOf(accounts.homeMode);
  return {
    name: "accounts",
    title: "Linux users and groups",
    spec: {
      users: users.map((u) => ({ name: u.name, uid: u.uid, shell: u.shell, home: u.home, groups: u.groups })),
      groups: groups.map((g) => ({ name: g.name, gid: g.gid })),
    },
    async apply(previous, progress) {
      const data = readData(previous);
      for (const g of groups) await ensureGroup(g.name, g.gid, data, progress);
      for (const u of users) await ensureUser(u, homeMode, data, progress);
      const managedGroups = new Set([...data.managedGroups, ...groups.map((g) => g.name)]);
      for (const u of users) await syncMembership(u.name, u.groups, managedGroups, progress);
      // Users gone from the file keep their account and files but leave the platform's groups.
      const removed = data.managedUsers.filter((n) => !users.some((u) => u.name === n));
      for (const name of removed) {
        if (await getent("passwd", name)) await syncMembership(name, [], managedGroups, progress);
      }
      data.managedUsers = users.map((u) => u.name);
      data.managedGroups = groups.map((g) => g.name);
      return {
        note: `${users.length} users, ${groups.length} groups${removed.length ? `, ${removed.length} removed from groups` : ""}`,
        data,
      };
    },
  };
}

/** The accounts a purge removes: those Atrium created (the state's record). */
export function createdAccounts(previous: StateEntry | undefined): { users: string[]; groups: string[] } {
  const data = readData(previous);
  return { users: data.createdUsers, groups: data.createdGroups };
}

/**
 * `destroy --purge`: remove the accounts Atrium created, and never any other. Their
 * processes are stopped before (see platform-processes.ts); userdel refusing
 * because one is back fails the purge, which a rerun finishes.
 */
export async function purgeAccounts(previous: StateEntry | undefined, progress: Progress): Promise<void> {
  const { users, groups } = createdAccounts(previous);
  for (const name of users) {
    if (!(await getent("passwd", name))) continue;
    // 12: the home could not be removed in full (it is checked for after the purge)
    await run("userdel", ["-r", name], { okCodes: [12] });
    progress.detail(`user ${name} removed`);
  }
  for (const name of groups) {
    if (!(await getent("group", name))) continue;
    await run("groupdel", [name], { okCodes: [6] });
    progress.detail(`group ${name} removed`);
  }
}

/** The accounts Atrium created that still exist, as "user NAME" / "group NAME". */
export async function remainingAccounts(previous: StateEntry | undefined): Promise<string[]> {
  const { users, groups } = createdAccounts(previous);
  const left: string[] = [];
  for (const name of users) if (await getent("passwd", name)) left.push(`user ${name}`);
  for (const name of groups) if (await getent("group", name)) left.push(`group ${name}`);
  return left;
}
