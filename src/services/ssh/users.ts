/**
 * Who is a user of the platform, for SSH: the users the file lists and, with single
 * sign-on, the people the hub made accounts for at their first login (its record,
 * re-read when it changes). A name found nowhere cannot log in.
 */
import { readFileSync, statSync } from "node:fs";
import { oidcAccounts } from "../../contracts/oidc-accounts.js";
import type { SshServiceConfig, SshUser } from "../../contracts/ssh-service.js";

export interface UserDirectory {
  get(name: string): SshUser | undefined;
}

export function userDirectory(config: SshServiceConfig): UserDirectory {
  const listed = new Map(config.users.map((u) => [u.name, u]));
  const signOn = config.sign_on;
  let known = new Set<string>();
  let seen = -1;
  const signedOn = (name: string): boolean => {
    if (!signOn) return false;
    try {
      const mtime = statSync(signOn.accounts_file).mtimeMs;
      if (mtime !== seen) {
        const data = oidcAccounts.parse(JSON.parse(readFileSync(signOn.accounts_file, "utf8")));
        known = new Set(Object.keys(data.accounts));
        seen = mtime;
      }
    } catch {
      return false;
    }
    return known.has(name);
  };
  return {
    get(name) {
      const user = listed.get(name);
      if (user) return user;
      if (!signOn || !signedOn(name)) return undefined;
      // Home and shell come from the account itself (see accounts.ts) once it is looked up.
      return { name, home: "", shell: "", profile: signOn.profile, limits: signOn.limits };
    },
  };
}
