/**
 * The hub's record of the accounts it made at first login (<hub data>/oidc-accounts.json,
 * root-only): written by the hub glue (python/atrium_hub/oidc.py), read by the SSH gateway
 * (who may log in) and by `destroy --purge` (which accounts to remove).
 */
import { z } from "zod";
import { linuxName } from "./common.js";

export const oidcAccountRecord = z.strictObject({
  claim: z.string().describe("the username claim's value that took this name"),
  created: z.boolean().describe("Atrium made the Linux account at login (destroy --purge removes it)"),
  groups: z.array(z.string()).optional().describe("the provider's groups at the last login, as sent"),
  last_login: z.string().optional(),
});

export const oidcAccounts = z
  .strictObject({
    version: z.literal(1),
    accounts: z.record(linuxName, oidcAccountRecord),
  })
  .describe("oidc-accounts.json: accounts the hub made at first login");

export type OidcAccounts = z.infer<typeof oidcAccounts>;
