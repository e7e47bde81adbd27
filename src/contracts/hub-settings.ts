/**
 * The hub's settings (hub/atrium_hub.json): rendered by the target, read by the hub
 * glue (python/atrium_hub/settings.py) at hub start; its only input. Unknown keys are
 * errors on both sides, so a drift between them shows on the first deploy.
 */
import { z } from "zod";
import {
  absPath,
  cgroupParent,
  envName,
  httpUrl,
  linuxName,
  matching,
  nonEmpty,
  optionalAmount,
  optionalBytes,
} from "./common.js";
import { kubeSpawner } from "./kube-spawner.js";

export const CGROUP_MODES = ["auto", "v1", "v2-systemd", "off"] as const;
export const OIDC_PRESETS = ["github", "google", "keycloak", "auth0"] as const;

const passwordAuth = z.strictObject({
  type: z.literal("password"),
  password_file: absPath.describe("bcrypt hashes by user name (JSON, root-only)"),
});

const oidcAuth = z.strictObject({
  type: z.literal("oidc"),
  preset: z.enum(OIDC_PRESETS).nullable(),
  issuer: httpUrl.nullable().describe("null: the preset's well-known provider (github, google)"),
  client_id: nonEmpty,
  client_secret_env: envName.describe("the hub's environment variable holding the client secret"),
  username_claim: nonEmpty.nullable().describe("null: the preset's default, or OIDC's"),
  groups_claim: nonEmpty.nullable(),
  scopes: z.array(nonEmpty).min(1).nullable(),
  allowed_groups: z.array(nonEmpty),
  admin_groups: z.array(nonEmpty),
  group_map: z.record(z.string(), linuxName).describe("provider group -> platform group"),
  linux_accounts: z
    .boolean()
    .describe(
      "true: the hub makes and updates Linux accounts at login (one machine); false: only the file's users log in, with the accounts deploy made (a cluster's pods)",
    ),
  home_dir: absPath.describe("where accounts made at first login get their home"),
  default_shell: absPath,
  shared_dir: absPath.describe("parent of the group folders: links in ~/shared below it are Atrium's"),
  accounts_file: absPath.describe("the hub's record of the accounts made at login (oidc-accounts contract)"),
  reserved_names: z.array(nonEmpty).describe("names no account made at login may take"),
});

const user = z.strictObject({
  name: linuxName,
  admin: z.boolean(),
  groups: z.array(linuxName),
  home: absPath,
  shell: absPath,
});

const group = z.strictObject({
  name: linuxName,
  description: z.string(),
  shared_folder: absPath.nullable(),
});

export const hubProfile = z.strictObject({
  name: nonEmpty,
  display_name: nonEmpty,
  description: z.string(),
  cpu_limit: optionalAmount.describe("cores; null: no limit"),
  cpu_guarantee: optionalAmount,
  mem_limit: optionalBytes.describe("bytes; null: no limit"),
  mem_guarantee: optionalBytes,
  pids_limit: z.number().int().min(0).describe("most tasks in the server's cgroup; 0: no limit"),
  gpus: z.number().int().min(0),
  default: z.boolean(),
  groups: z.array(linuxName).describe("empty with users empty: open to everyone"),
  users: z.array(linuxName),
});

const spawner = z.strictObject({
  cmd: z.array(nonEmpty).min(1).describe("the single-user server command"),
  default_url: z.string(),
  path_prepend: z.array(absPath),
  environment: z.record(envName, z.string()),
  cgroup: z.strictObject({ mode: z.enum(CGROUP_MODES), v1_root: absPath, parent: cgroupParent }),
  sockets_dir: absPath.describe("root-owned folder of the servers' Unix sockets"),
  kernels_dir: absPath
    .nullable()
    .optional()
    .describe("managed environments' kernelspecs: <kernels_dir>/<user> goes on JUPYTER_PATH"),
});

const idleCuller = z.strictObject({
  enabled: z.boolean(),
  timeout: z.number().int().min(1),
  every: z.number().int().min(1),
  max_age: z.number().int().min(0),
  python: absPath,
});

export const hubService = z.strictObject({
  name: matching(/^[a-z0-9][a-z0-9_.-]*$/, "a service name of lowercase letters, digits, _ . -"),
  url: httpUrl.nullable().optional(),
  api_token_file: absPath.nullable().optional(),
  oauth_redirect_uri: nonEmpty.nullable().optional(),
  admin: z.boolean().optional().describe("default false"),
  oauth_no_confirm: z.boolean().optional().describe("default true"),
  scopes: z.array(nonEmpty).optional(),
  user_access: z.boolean().optional().describe("every platform user may use it; default false"),
});

const videochat = z.strictObject({
  enabled: z.boolean(),
  jitsi_domain: matching(
    /^[A-Za-z0-9.-]+(:[0-9]{1,5})?$/,
    "a host name with an optional port, like meet.jit.si",
  ),
  project: nonEmpty,
  group_rooms: z.array(z.strictObject({ group: linuxName, room_name: nonEmpty })),
  rooms: z.array(z.strictObject({ name: nonEmpty, room_name: nonEmpty })),
});

export const hubSettings = z
  .strictObject({
    version: z.literal(1),
    project: z.strictObject({ name: nonEmpty, title: z.string(), welcome: z.string() }),
    hub: z.strictObject({
      bind_url: httpUrl,
      connect_url: httpUrl
        .optional()
        .describe("where the proxy and servers reach the hub, when not at bind_url's address (a Service)"),
      public_url: httpUrl
        .nullable()
        .describe(
          "its path is empty or equals base_url; null: not known to the hub (a node port or load balancer), which then builds its redirects from each request",
        ),
      base_url: matching(/^\/(.*\/)?$/, "a path that starts and ends with /"),
      data_dir: absPath,
      db_url: nonEmpty,
      cookie_secret_file: absPath,
    }),
    proxy: z.strictObject({ api_url: httpUrl, auth_token_file: absPath }),
    auth: z.discriminatedUnion("type", [passwordAuth, oidcAuth]),
    users: z.array(user),
    groups: z.array(group),
    profiles: z.array(hubProfile),
    spawner: spawner.nullable().describe("the local spawner; null on kubernetes, which sets kube_spawner"),
    kube_spawner: kubeSpawner.optional().describe("KubeSpawner's settings, on the kubernetes target only"),
    idle_culler: idleCuller,
    services: z.array(hubService),
    videochat,
  })
  .refine((s) => (s.spawner !== null) !== (s.kube_spawner !== undefined), {
    message: "exactly one of spawner (local) and kube_spawner (kubernetes) is set",
    path: ["spawner"],
  })
  .describe("hub/atrium_hub.json: the hub's settings, read by python/atrium_hub/settings.py");

export type HubSettings = z.input<typeof hubSettings>;
export type HubService = z.input<typeof hubService>;
export type HubProfile = z.input<typeof hubProfile>;
