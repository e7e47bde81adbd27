/**
 * The uids and gids of the platform's users and groups on a cluster, where no
 * account database gives them: allocated once, kept in Atrium's state, never
 * reused. Pure: the previous record and the Platform in, the new record out.
 *
 * Must stay true: an id the file gives wins; an allocated id stays with its name for
 * as long as the name is in the file; an id that belonged to a removed name is retired
 * and never handed out again (a name that comes back gets a new one), so a new user
 * never owns an old user's files on the volume. New ids are above every id known.
 * Users and groups share one id space: each user's own group has the user's uid as
 * its gid, so no group may hold a user's id.
 */
import type { Config } from "../../config/schema.js";
import type { Platform } from "../../model/platform.js";

/** The first id Atrium allocates; ids below are the file's or the system's. */
export const FIRST_ALLOCATED_ID = 10000;

export interface IdentityRecord {
  /** User name -> uid. */
  users: Record<string, number>;
  /** Group name -> gid. */
  groups: Record<string, number>;
  /** Ids that belonged to names no longer in the file (or whose id the file changed); never handed out again. */
  retired: number[];
}

/** The ids the file gives (users' uid, groups' gid), by name. */
export interface FileIdentities {
  users: Record<string, number>;
  groups: Record<string, number>;
}

export const EMPTY_IDENTITIES: IdentityRecord = { users: {}, groups: {}, retired: [] };

const NO_FILE_IDS: FileIdentities = { users: {}, groups: {} };

const sorted = (entries: Array<[string, number]>): Record<string, number> =>
  Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/** The new record for `platform`, from the previous one and the ids the file gives. */
export function allocateIdentities(
  previous: IdentityRecord,
  platform: Platform,
  file: FileIdentities = NO_FILE_IDS,
): IdentityRecord {
  const retired = new Set(previous.retired);
  const fileIds = new Set([...Object.values(file.users), ...Object.values(file.groups)]);
  // Every id ever known: the previous record's, retired ones and the file's.
  const known = new Set([
    ...Object.values(previous.users),
    ...Object.values(previous.groups),
    ...retired,
    ...fileIds,
  ]);
  let next = Math.max(FIRST_ALLOCATED_ID - 1, ...[...known].filter((id) => id >= FIRST_ALLOCATED_ID)) + 1;
  const fresh = (): number => {
    while (known.has(next)) next++;
    known.add(next);
    return next++;
  };
  const assign = (
    names: string[],
    before: Record<string, number>,
    given: Record<string, number>,
  ): Array<[string, number]> => {
    const out: Array<[string, number]> = [];
    for (const name of [...names].sort()) {
      const fixed = given[name];
      const kept = before[name];
      if (fixed !== undefined) {
        if (kept !== undefined && kept !== fixed) retired.add(kept);
        out.push([name, fixed]);
      } else if (kept !== undefined && !fileIds.has(kept)) {
        out.push([name, kept]);
      } else {
        // New, or its kept id is now another name's in the file: a new id (the kept one
        // now belongs to that name, so it is not retired).
        out.push([name, fresh()]);
      }
    }
    for (const [name, id] of Object.entries(before)) {
      if (!names.includes(name)) retired.add(id);
    }
    return out;
  };
  const users = assign(
    platform.users.map((u) => u.name),
    previous.users,
    file.users,
  );
  const groups = assign(
    platform.groups.map((g) => g.name),
    previous.groups,
    file.groups,
  );
  for (const [, id] of [...users, ...groups]) retired.delete(id);
  return { users: sorted(users), groups: sorted(groups), retired: [...retired].sort((a, b) => a - b) };
}

/** The ids the file gives, by name: what allocateIdentities keeps as they are. */
export function fileIdentitiesOf(config: Config): FileIdentities {
  return {
    users: Object.fromEntries(config.users.flatMap((u) => (u.uid === undefined ? [] : [[u.name, u.uid]]))),
    groups: Object.fromEntries(config.groups.flatMap((g) => (g.gid === undefined ? [] : [[g.name, g.gid]]))),
  };
}
