/**
 * Linux accounts: the rendered accounts.json (<etc>/accounts.json, what the file asks
 * for), and the requests deploy hands the hub glue's account tool
 * (`python -m atrium_hub.accounts_cli`, python/atrium_hub/linux_accounts.py is the one
 * owner of making accounts and ~/shared links) with the events it answers, one JSON
 * object a line.
 */
import { z } from "zod";
import { absPath, linuxName, matching, nonEmpty } from "./common.js";

const fileMode = matching(/^[0-7]{3,4}$/, "an octal file mode like 0700 or 2770");
const linuxId = z.number().int().min(0).max(4294967294);

export const accountsSpec = z
  .strictObject({
    homeMode: fileMode.describe("mode of each user's home"),
    sharedMode: fileMode.describe("mode of each group's shared folder"),
    users: z.array(
      z.strictObject({
        name: linuxName,
        uid: linuxId.nullable().describe("the file's uid; null: the system picks"),
        shell: absPath,
        home: absPath,
        groups: z.array(linuxName).describe("the platform's groups the user is in"),
      }),
    ),
    groups: z.array(
      z.strictObject({
        name: linuxName,
        gid: linuxId.nullable().describe("the file's gid; null: the system picks"),
        sharedFolder: absPath.nullable().describe("the group's shared folder; null: it has none"),
      }),
    ),
  })
  .describe("accounts.json: the Linux users and groups of the platform");

export type AccountsSpec = z.infer<typeof accountsSpec>;

export const accountsRequest = z
  .discriminatedUnion("op", [
    z.strictObject({
      op: z.literal("accounts").describe("make the groups and users, and their memberships follow the file"),
      accounts: accountsSpec,
      managed_groups: z
        .array(linuxName)
        .describe("groups that are the platform's (now or at an earlier deploy): memberships of others stay"),
      former_users: z
        .array(linuxName)
        .describe("users the file named before and no longer does: they leave the managed groups"),
    }),
    z.strictObject({
      op: z.literal("links").describe("~/shared/<group> links for exactly each user's shared groups"),
      shared_dir: absPath.describe("links pointing below it are Atrium's, to make and remove"),
      users: z.array(
        z.strictObject({
          name: linuxName,
          home: absPath,
          folders: z.record(linuxName, absPath).describe("group -> its shared folder"),
        }),
      ),
    }),
  ])
  .describe("one request to the account tool, the first line on its stdin");

export type AccountsRequest = z.infer<typeof accountsRequest>;

export const accountsEvent = z
  .discriminatedUnion("event", [
    z
      .strictObject({
        event: z.literal("intent"),
        kind: z.enum(["user", "group"]),
        name: linuxName,
      })
      .describe("about to make this account; the tool waits for a line `go` on stdin"),
    z.strictObject({ event: z.literal("detail"), text: nonEmpty }),
    z.strictObject({ event: z.literal("important"), text: nonEmpty }),
    z.strictObject({ event: z.literal("error"), message: nonEmpty, fix: z.string() }),
    z.strictObject({ event: z.literal("done"), note: z.string() }),
  ])
  .describe("one line the account tool writes on stdout");

export type AccountsEvent = z.infer<typeof accountsEvent>;
