/**
 * Linux accounts, as the rendered accounts.json lists them: groups and users named
 * exactly as in the file, homes in its homeMode (0700),
 * uid/gid as given, Linux passwords locked (login checks the hub's hashes, so the
 * host's own sshd never accepts these accounts by password). Membership in the
 * platform's groups follows the file, removals included. The work is the hub glue's
 * account tool (account-tool.ts), the code that also makes accounts at single
 * sign-on first login. The state remembers which accounts Atrium created, each
 * before it is made, so `destroy --purge` removes only those.
 */
import type { Component, Progress, StateEntry } from "../../component.js";
import { runAccountTool } from "../account-tool.js";
import { accountsArtifact } from "../artifact-data.js";
import type { LocalContext } from "../context.js";
import { run, tryRun } from "../exec.js";

export interface AccountsData {
  createdUsers: string[];
  createdGroups: string[];
  /** Users and groups the file named at the last deploy. */
  managedUsers: string[];
  managedGroups: string[];
}

async function exists(db: "passwd" | "group", name: string): Promise<boolean> {
  return (await tryRun("getent", [db, name])) !== undefined;
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

export function accountsComponent(ctx: LocalContext): Component {
  const accounts = accountsArtifact(ctx.artifacts);
  const { users, groups } = accounts;
  return {
    name: "accounts",
    title: "Linux users and groups",
    spec: {
      users: users.map((u) => ({ name: u.name, uid: u.uid, shell: u.shell, home: u.home, groups: u.groups })),
      groups: groups.map((g) => ({ name: g.name, gid: g.gid })),
    },
    async apply(previous, progress) {
      const data = readData(previous);
      const note = await runAccountTool(
        ctx.placement,
        {
          op: "accounts",
          accounts,
          managed_groups: data.managedGroups,
          former_users: data.managedUsers.filter((n) => !users.some((u) => u.name === n)),
        },
        {
          progress,
          // Recorded before the tool makes the account, so a deploy killed right after
          // still knows it is Atrium's (destroy --purge removes only those).
          async beforeCreate(kind, name) {
            if (kind === "user") data.createdUsers = [...new Set([...data.createdUsers, name])];
            else data.createdGroups = [...new Set([...data.createdGroups, name])];
            await progress.checkpoint?.(data);
          },
        },
      );
      data.managedUsers = users.map((u) => u.name);
      data.managedGroups = groups.map((g) => g.name);
      return { note, data };
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
    if (!(await exists("passwd", name))) continue;
    // 12: the home could not be removed in full (it is checked for after the purge)
    await run("userdel", ["-r", name], { okCodes: [12] });
    progress.detail(`user ${name} removed`);
  }
  for (const name of groups) {
    if (!(await exists("group", name))) continue;
    await run("groupdel", [name], { okCodes: [6] });
    progress.detail(`group ${name} removed`);
  }
}

/** The accounts Atrium created that still exist, as "user NAME" / "group NAME". */
export async function remainingAccounts(previous: StateEntry | undefined): Promise<string[]> {
  const { users, groups } = createdAccounts(previous);
  const left: string[] = [];
  for (const name of users) if (await exists("passwd", name)) left.push(`user ${name}`);
  for (const name of groups) if (await exists("group", name)) left.push(`group ${name}`);
  return left;
}
