/** The Linux accounts, groups, homes and shared folders the platform needs, as data. */
import type { AccountsSpec } from "../../contracts/accounts.js";
import type { Platform } from "../../model/platform.js";
import { accountOf, groupOf, type LocalPlacement } from "./placement.js";

export function renderAccounts(platform: Platform, placement: LocalPlacement): AccountsSpec {
  return {
    homeMode: "0700",
    sharedMode: "2770",
    users: platform.users.map((u) => {
      const account = accountOf(placement, u.name);
      return {
        name: u.name,
        uid: account.uid ?? null,
        shell: account.shell,
        home: account.home,
        groups: u.groups,
      };
    }),
    groups: platform.groups.map((g) => {
      const group = groupOf(placement, g.name);
      return { name: g.name, gid: group.gid ?? null, sharedFolder: group.sharedFolder };
    }),
  };
}
