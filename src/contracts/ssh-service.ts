/**
 * The SSH gateway's config (services/ssh.json), rendered by the target and re-read by
 * src/services/ssh while it runs; and the status file the gateway writes for `atrium status`.
 */
import { z } from "zod";
import { absPath, cgroupParent, httpUrl, nonEmpty, optionalAmount, optionalBytes, port } from "./common.js";

export const sshLimits = z.strictObject({
  mem_limit: optionalBytes.describe("bytes; null: no limit"),
  mem_guarantee: optionalBytes,
  cpu_limit: optionalAmount.describe("cores; null: no limit"),
  cpu_guarantee: optionalAmount,
  pids_limit: z.number().int().min(0).describe("most tasks in one session's cgroup"),
});

export const sshUser = z.strictObject({
  name: nonEmpty,
  home: z.string(),
  shell: z.string(),
  profile: nonEmpty.describe("the user's default profile, whose limits their sessions get"),
  limits: sshLimits,
});

export const sshServiceConfig = z
  .strictObject({
    version: z.literal(1),
    listen: z.strictObject({ address: nonEmpty, port }),
    hub_api_url: httpUrl,
    host_key_file: absPath,
    status_file: absPath,
    path_prepend: z.array(absPath).describe("folders put first on PATH in every session"),
    path: z.string().describe("the rest of PATH"),
    sftp_server_candidates: z.array(absPath),
    cgroup: z.strictObject({ v1_root: absPath, parent: cgroupParent }),
    auth: z.strictObject({
      free_failures: z
        .number()
        .int()
        .min(0)
        .describe("failed attempts from one address before answers are delayed"),
      base_delay_ms: z
        .number()
        .int()
        .min(0)
        .describe("first delay; doubles with each failure up to max_delay_ms"),
      max_delay_ms: z.number().int().min(0),
      login_timeout: z.number().min(1).describe("seconds a client has to authenticate"),
    }),
    users: z.array(sshUser),
    sign_on: z
      .strictObject({
        accounts_file: absPath.describe(
          "the hub's record of accounts made at login (oidc-accounts contract)",
        ),
        profile: nonEmpty,
        limits: sshLimits,
      })
      .nullable()
      .describe(
        "with single sign-on: people made at first login log in with the open default profile's limits",
      ),
  })
  .describe("services/ssh.json: read by the SSH gateway");

export type SshLimits = z.infer<typeof sshLimits>;
export type SshUser = z.infer<typeof sshUser>;
export type SshServiceConfig = z.infer<typeof sshServiceConfig>;

/** <run_dir>/ssh.json: what the gateway writes while it runs. */
export const sshGatewayStatus = z
  .strictObject({
    pid: z.number().int().min(1),
    listening: z.strictObject({ address: z.string(), port }).nullable(),
    updatedAt: z.string(),
    sessions: z.array(
      z.strictObject({ user: z.string(), from: z.string(), kind: z.string(), since: z.string() }),
    ),
    limits: z.string().describe("why sessions run without limits, when they do"),
  })
  .describe("the SSH gateway's status file, read by atrium status");

export type SshGatewayStatus = z.infer<typeof sshGatewayStatus>;
