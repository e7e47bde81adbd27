/**
 * The SSH gateway's config on the kubernetes target (the ConfigMap `ssh-gateway`, key
 * ssh.json), rendered by the target and read by src/services/ssh/kube through the API
 * server while it runs, so users a deploy adds log in at once and open sessions stay;
 * and the status it keeps in the ConfigMap `ssh-status` for `atrium status`.
 */
import { z } from "zod";
import { absPath, httpUrl, nonEmpty, port } from "./common.js";

export const kubeSshUser = z.strictObject({
  name: nonEmpty,
  uid: z.number().int().min(1000),
  /** The home folder as the gateway's pod mounts it (for ~/.ssh/authorized_keys). */
  keys_home: absPath,
  /** The home folder in the user's server pod. */
  home: absPath,
  shell: absPath,
});

export const kubeSshServiceConfig = z
  .strictObject({
    version: z.literal(1),
    listen: z.strictObject({ address: nonEmpty, port }),
    hub_api_url: httpUrl,
    api_token_file: absPath.describe("the gateway's own hub token: it starts users' servers"),
    host_key_file: absPath,
    namespace: nonEmpty,
    server_container: nonEmpty.describe("the container of a user's server pod sessions run in"),
    server_component: nonEmpty.describe("the component label of users' server pods"),
    start_timeout: z.number().min(1).describe("seconds a login waits for the user's server to start"),
    sftp_server_candidates: z.array(absPath),
    status_configmap: nonEmpty,
    auth: z.strictObject({
      free_failures: z.number().int().min(0),
      base_delay_ms: z.number().int().min(0),
      max_delay_ms: z.number().int().min(0),
      login_timeout: z.number().min(1),
    }),
    users: z.array(kubeSshUser),
  })
  .describe("ConfigMap ssh-gateway, ssh.json: read by the SSH gateway on a cluster");

export type KubeSshUser = z.infer<typeof kubeSshUser>;
export type KubeSshServiceConfig = z.infer<typeof kubeSshServiceConfig>;

/** The ConfigMap key of the config and of the status. */
export const KUBE_SSH_CONFIG_KEY = "ssh.json";
export const KUBE_SSH_STATUS_KEY = "status.json";
