/** The Linux accounts, groups, homes and shared folders the platform needs, as data. */
import type { Platform } from "../../model/platform.js";

export interface AccountsSpec {
  homeMode: string;
  sharedMode: string;
  users: Array<{ name: string; uid: number | null; shell: string; home: string; groups: string[] }>;
  groups: Array<{ name: string; gid: number | null; sharedFolder: string | null }>;
}

export function renderAccounts(platform: Platform): AccountsSpec {
  return {
    homeMode: "0700",
    sharedMode: "2770",
    users: platform.users.map((u) => ({
      name: u.name,
      uid: u.uid ?? null,
      shell: u.shell,
      home: u.home,
      groups: u.groups,
    })),
    groups: platform.groups.map((g) => ({ name: g.name, gid: g.gid ?? null, sharedFolder: g.sharedFolder })),
  };
}
