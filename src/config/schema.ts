/**
 * The atrium.yaml schema, version 2: the single source of truth for the config's
 * types, defaults, per-field validation and the published JSON Schema.
 *
 * Must stay true: every object is strict (unknown keys are errors), every field has
 * a description, and every default is stated here and nowhere else. Rules that
 * relate several fields (references, uniqueness) live in rules.ts.
 */
import { z } from "zod";
import {
  absPath,
  DNS_LABEL_RE,
  duration,
  https,
  POSIX_NAME_RE,
  port,
  posixName,
  size,
  slug,
} from "./schema-parts.js";
import { kubernetesTarget } from "./target-kubernetes.js";

export { DNS_LABEL_RE, POSIX_NAME_RE, SLUG_RE } from "./schema-parts.js";

export const CONFIG_VERSION = 2;

const project = z
  .strictObject({
    name: z
      .string()
      .min(2, { error: "a project name has 2 to 32 characters" })
      .max(32, { error: "a project name has 2 to 32 characters" })
      .regex(DNS_LABEL_RE, {
        error: "a project name is DNS-safe: lower case letters, digits and -, starting with a letter",
      })
      .describe("Short DNS-safe name of the platform (2-32 chars); prefixes rooms, cgroups and units."),
    title: z.string().max(200).optional().describe("Title shown on the login page. Default: the name."),
    welcome: z.string().max(4000).optional().describe("Welcome text shown on the login page."),
  })
  .describe("What the platform is called.");

/** How many ports, from target.ports.dask_dashboards on, the schedulers' dashboards may take. */
export const DASHBOARD_PORT_COUNT = 500;

const ports = z
  .strictObject({
    hub: port.default(881).describe("Port of the hub's own API on 127.0.0.1."),
    proxy_api: port.default(801).describe("Port of the proxy's REST API on 127.0.0.1."),
    envs: port.default(891).describe("Port of the environment service on 127.0.0.1."),
    dask_gateway: port.default(892).describe("Port of dask-gateway's API on 127.0.0.1."),
    dask_scheduler_proxy: port.default(893).describe("Port of dask-gateway's TLS scheduler proxy."),
    dask_gateway_web: port
      .default(894)
      .describe(
        "Port of dask-gateway's own web proxy on 127.0.0.1; a kernel rule lets only root (the dashboard guard) connect.",
      ),
    dask_dashboards: port
      .default(18000)
      .describe(
        `First of ${DASHBOARD_PORT_COUNT} ports on 127.0.0.1 for the Dask schedulers' dashboards; a kernel rule lets only root (the dashboard guard) connect.`,
      ),
  })
  .describe(
    "Internal ports on 127.0.0.1, below 1024 so that only root can listen on them (no other local user can take one while its service restarts); change them only if they clash with something else.",
  );

const localTarget = z
  .strictObject({
    type: z.literal("local").describe("This machine: Linux accounts, cgroups and one supervisor."),
    prefix: absPath.default("/opt/atrium").describe("Where Atrium installs its Python envs and config."),
    data_dir: absPath.default("/var/lib/atrium").describe("Hub database, secrets and certificates."),
    state_dir: absPath.default("/var/lib/atrium/state").describe("Deploy state file, lock and pid files."),
    log_dir: absPath.default("/var/log/atrium").describe("One log file per supervised process."),
    shared_dir: absPath.default("/srv/atrium/shared").describe("One shared folder per group below this."),
    envs_dir: absPath.default("/opt/atrium/environments").describe("Managed environments below this."),
    home_dir: absPath.default("/home").describe("Parent of the users' home folders."),
    address: z.string().min(1).default("0.0.0.0").describe("Address the platform listens on."),
    port: port.default(8000).describe("Port the platform listens on."),
    ports: ports.default({
      hub: 881,
      proxy_api: 801,
      envs: 891,
      dask_gateway: 892,
      dask_scheduler_proxy: 893,
      dask_gateway_web: 894,
      dask_dashboards: 18000,
    }),
    https: https.default({ mode: "none" }),
  })
  .describe("The platform on this machine.");

const planned = (what: string) => `${what} Not supported yet.`;
const name = z.string().min(1);

// The blocks of the planned targets are small on purpose: what a file must say to pick
// a cloud account. rules-platform.ts refuses them until they are built.
/** A cluster Atrium makes in a cloud account, and the keys that say where. */
function cloudTarget<T extends string, S extends z.ZodRawShape>(
  type: T,
  cloud: string,
  service: string,
  shape: S,
) {
  return z
    .strictObject({
      type: z.literal(type).describe(planned(`A cluster Atrium makes in ${cloud} (${service}).`)),
      ...shape,
    })
    .describe(`The platform on a cluster Atrium makes in ${cloud}.`);
}

const awsTarget = cloudTarget("aws", "AWS", "EKS", {
  region: name.optional().describe("AWS region of the cluster, e.g. eu-west-1."),
});

const gcpTarget = cloudTarget("gcp", "Google Cloud", "GKE", {
  project: name.optional().describe("Google Cloud project id."),
  region: name.optional().describe("Google Cloud region of the cluster, e.g. europe-west1."),
});

const azureTarget = cloudTarget("azure", "Azure", "AKS", {
  resource_group: name.optional().describe("Azure resource group of the cluster."),
  location: name.optional().describe("Azure location of the cluster, e.g. westeurope."),
});

const digitaloceanTarget = cloudTarget("digitalocean", "DigitalOcean", "DOKS", {
  region: name.optional().describe("DigitalOcean region of the cluster, e.g. ams3."),
});

const target = z
  .discriminatedUnion("type", [
    localTarget,
    kubernetesTarget,
    awsTarget,
    gcpTarget,
    azureTarget,
    digitaloceanTarget,
  ])
  .describe("Where and how the platform runs; type picks the kind of target and the keys beside it.");

/** Every kind of target a file may name; the clouds are not built yet and the rules refuse them. */
export const TARGET_TYPES = target.options.map((o) => o.shape.type.value);
export const SUPPORTED_TARGETS = ["local", "kubernetes"] as const;
export const PLANNED_TARGETS = TARGET_TYPES.filter(
  (t) => !(SUPPORTED_TARGETS as readonly string[]).includes(t),
);

export const OIDC_PRESETS = ["github", "google", "keycloak", "auth0"] as const;

const passwordAuth = z
  .strictObject({
    type: z.literal("password").describe("Password login; the hub keeps strong hashes, not Linux passwords."),
  })
  .describe("Password login.");

const oidcAuth = z
  .strictObject({
    type: z.literal("oidc").describe("Log in through an OpenID Connect provider."),
    preset: z
      .enum(OIDC_PRESETS)
      .optional()
      .describe("Fill in the provider's URLs and claims for a well-known provider."),
    issuer: z
      .url({ error: "must be a URL such as https://login.example.com/realms/team" })
      .optional()
      .describe(
        "Issuer URL; its /.well-known/openid-configuration is read. Required, except with preset github or google.",
      ),
    client_id: z.string().min(1).describe("OAuth client id registered with the provider."),
    client_secret_env: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]*$/, {
        error: "must be an environment variable name such as OIDC_CLIENT_SECRET",
      })
      .describe("Name of the environment variable holding the client secret (never the secret itself)."),
    username_claim: z
      .string()
      .min(1)
      .optional()
      .describe("Claim giving the user name. Default: preferred_username."),
    groups_claim: z.string().min(1).optional().describe("Claim listing the user's groups. Default: groups."),
    scopes: z
      .array(z.string().min(1))
      .optional()
      .describe("Scopes to request. Default: openid profile email."),
    allowed_groups: z
      .array(z.string())
      .default([])
      .describe(
        "Provider groups whose members may log in, besides the users listed in users (one machine only: on kubernetes only listed users log in).",
      ),
    admin_groups: z
      .array(z.string())
      .default([])
      .describe("Provider groups whose members are admins (on kubernetes: listed users only)."),
    group_map: z
      .record(z.string(), posixName("group"))
      .default({})
      .describe(
        "Provider group name -> group in this file; unmapped groups with the same name match too (one machine only: on kubernetes a user's groups are the file's).",
      ),
  })
  .describe("Single sign-on through OpenID Connect.");

const auth = z.discriminatedUnion("type", [passwordAuth, oidcAuth]).describe("How users log in.");

const user = z
  .strictObject({
    name: posixName("user").describe("Linux account and hub name."),
    admin: z.boolean().default(false).describe("Hub admin."),
    groups: z
      .array(posixName("group"))
      .default([])
      .describe("Groups the user belongs to (names from groups)."),
    uid: z
      .int()
      .min(1000)
      .max(59999)
      .optional()
      .describe("Fixed uid (1000-59999). Default: the system picks."),
    shell: absPath.default("/bin/bash").describe("Login shell for terminals and SSH."),
  })
  .describe("A person using the platform.");

const group = z
  .strictObject({
    name: posixName("group").describe("Linux group and hub group name."),
    gid: z
      .int()
      .min(1000)
      .max(59999)
      .optional()
      .describe("Fixed gid (1000-59999). Default: the system picks."),
    description: z.string().max(500).optional().describe("What the group is for."),
    shared_folder: z.boolean().default(true).describe("Create <shared_dir>/<name> for the members."),
  })
  .describe("A team within the team.");

/** Tasks (processes and threads) per server, SSH session or Dask process when a profile does not say. */
export const DEFAULT_PIDS_LIMIT = 4096;

const profile = z
  .strictObject({
    name: slug("profile").describe("Identifier used in spawn requests."),
    display_name: z.string().min(1).max(100).describe("Name shown on the spawn page."),
    description: z.string().max(500).default("").describe("Text shown under the name on the spawn page."),
    cpu_limit: z.number().positive().max(1024).optional().describe("Most CPU cores the server may use."),
    cpu_guarantee: z.number().positive().max(1024).optional().describe("CPU cores reserved for the server."),
    mem_limit: size.optional().describe("Most memory the server may use, e.g. 4G or 512Mi."),
    mem_guarantee: size.optional().describe("Memory reserved for the server."),
    pids_limit: z
      .int()
      .min(64, { error: "a pids limit below 64 leaves too few for JupyterLab and its kernels" })
      .max(4_194_304)
      .default(DEFAULT_PIDS_LIMIT)
      .describe(
        `Most processes and threads the server may run at once: a fork bomb stops there. The user's default profile's limit also holds for all their SSH sessions together; each Dask scheduler and worker gets ${DEFAULT_PIDS_LIMIT}.`,
      ),
    gpus: z
      .int()
      .min(0)
      .max(16)
      .default(0)
      .describe(
        "NVIDIA GPUs given to the server, each to one server at a time (CUDA_VISIBLE_DEVICES names them; the server's cgroup denies the others). Needs /dev/nvidia0, ... on the machine: plan warns and deploy refuses otherwise; needs the cgroup v1 devices controller: a GPU server is refused without it.",
      ),
    default: z.boolean().default(false).describe("The profile picked when none is chosen; exactly one."),
    groups: z
      .array(posixName("group"))
      .default([])
      .describe("Groups that may use it; empty with users: everyone."),
    users: z.array(posixName("user")).default([]).describe("Users that may use it besides the groups."),
    node_pool: slug("node pool")
      .optional()
      .describe(
        "On a kubernetes target: the node pool (target.node_pools) its servers run on. Default: any node.",
      ),
  })
  .describe("An instance type users pick when starting a server.");

const environment = z
  .strictObject({
    name: slug("environment").describe("Environment name, also the kernel's name."),
    namespace: z
      .string()
      .regex(POSIX_NAME_RE, { error: "a namespace is global, a group name or a user name" })
      .default("global")
      .describe("global (everyone), a group name (its members) or a user name (that user)."),
    file: z
      .string()
      .min(1)
      .optional()
      .describe(
        "Path, relative to atrium.yaml, of a conda-style environment.yaml; excludes the fields below.",
      ),
    python: z
      .string()
      .regex(/^3\.\d+$/, { error: "a Python version such as 3.11" })
      .optional()
      .describe("Python version (3.x). Default: the system Python."),
    dependencies: z
      .array(z.string().min(1))
      .default([])
      .describe(
        "Packages, conda-style (numpy, numpy=1.26, pandas >=2,<3); must exist on PyPI. One package per entry.",
      ),
    pip: z
      .array(z.string().min(1))
      .default([])
      .describe(
        "Extra requirements, one PEP 508 requirement per entry (name[extras], versions, ; marker); no options, paths or URLs.",
      ),
  })
  .describe("A managed Python environment, offered as a Jupyter kernel and to Dask.");

const environmentBuilds = z
  .strictObject({
    allow_source: z
      .array(
        z.string().regex(/^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/, {
          error: "a package name such as pyyaml",
        }),
      )
      .default([])
      .describe(
        "Packages that builds compile from source distributions instead of wheels: their build code runs, as the build account, inside the build's own cgroup. Every other package is installed from wheels only, whatever a spec says.",
      ),
  })
  .describe("How managed environments are built (users' and the file's alike).");

const workerProfile = z
  .strictObject({
    name: slug("worker profile").describe("Identifier chosen in cluster options."),
    cores: z.number().positive().max(256).default(1).describe("CPU cores per worker."),
    memory: size.default("2G").describe("Memory per worker."),
    threads: z.int().min(1).max(256).default(1).describe("Threads per worker."),
    node_pool: slug("node pool")
      .optional()
      .describe(
        "On a kubernetes target: the node pool (target.node_pools) its workers run on. Default: any node.",
      ),
  })
  .describe("A Dask worker size.");

const daskLimits = z
  .strictObject({
    max_workers: z.int().min(1).max(1000).default(4).describe("Most workers per user, over all clusters."),
    max_cores: z.number().positive().max(1024).default(4).describe("Most worker cores per user."),
    max_memory: size
      .default("16G")
      .describe("Most memory per user for workers and schedulers (each cluster has one scheduler)."),
    max_clusters: z.int().min(1).max(100).default(2).describe("Most clusters per user at once."),
  })
  .describe("Per-user limits on Dask resources.");

const dask = z
  .strictObject({
    enabled: z.boolean().default(true).describe("Run dask-gateway for per-user Dask clusters."),
    worker_profiles: z
      .array(workerProfile)
      .min(1, { error: "needs at least one worker profile" })
      .default([{ name: "small", cores: 1, memory: "2G", threads: 1 }])
      .describe("Worker sizes users may pick; the first is the default."),
    scheduler_memory: size
      .default("1G")
      .describe("Memory of each cluster's scheduler; counts toward limits.max_memory."),
    limits: daskLimits.default({ max_workers: 4, max_cores: 4, max_memory: "16G", max_clusters: 2 }),
    idle_timeout: duration.default("30m").describe("Shut a cluster down after this long without a client."),
  })
  .describe("Dask clusters for every user.");

const ssh = z
  .strictObject({
    enabled: z.boolean().default(true).describe("Run the SSH gateway (shell, SFTP, VS Code Remote)."),
    port: port.default(8022).describe("Port of the SSH gateway."),
  })
  .describe("SSH and VS Code Remote access with hub credentials.");

const videochat = z
  .strictObject({
    enabled: z.boolean().default(true).describe("Show the Video Chat panel in JupyterLab."),
    jitsi_domain: z
      .string()
      .regex(/^[a-zA-Z0-9.-]+(:\d+)?$/, { error: "a host name such as meet.jit.si" })
      .default("meet.jit.si")
      .describe("Jitsi Meet server to use."),
    rooms: z.array(slug("room")).default([]).describe("Rooms open to every user, besides one per group."),
  })
  .describe("Video chat inside JupyterLab.");

const idleCuller = z
  .strictObject({
    enabled: z.boolean().default(true).describe("Stop servers that have been idle."),
    timeout: duration.default("1h").describe("Idle time after which a server is stopped."),
    every: duration.default("10m").describe("How often to check."),
    max_age: duration.default(0).describe("Stop servers older than this even if busy; 0: never."),
  })
  .describe("Stopping idle servers.");

export const configSchema = z
  .strictObject({
    $schema: z.string().optional().describe("Editors' JSON Schema reference; ignored."),
    version: z.literal(CONFIG_VERSION).default(CONFIG_VERSION).describe("Version of this file's format."),
    project,
    target: target.default(() => localTarget.parse({ type: "local" })),
    auth: auth.default({ type: "password" }),
    users: z.array(user).default([]).describe("Everyone who may log in (with password auth)."),
    groups: z.array(group).default([]).describe("Groups; each gets a shared folder unless told otherwise."),
    profiles: z
      .array(profile)
      .default([])
      .describe("Instance types; when empty, one default profile without limits is used."),
    environments: z.array(environment).default([]).describe("Managed environments built on deploy."),
    environment_builds: environmentBuilds.default({ allow_source: [] }),
    dask: dask.default(() => dask.parse({})),
    ssh: ssh.default({ enabled: true, port: 8022 }),
    videochat: videochat.default({ enabled: true, jitsi_domain: "meet.jit.si", rooms: [] }),
    idle_culler: idleCuller.default({ enabled: true, timeout: "1h", every: "10m", max_age: 0 }),
  })
  .describe("Atrium platform configuration (atrium.yaml).");

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type UserConfig = Config["users"][number];
export type GroupConfig = Config["groups"][number];
export type TargetConfig = Config["target"];
export type LocalTargetConfig = Extract<TargetConfig, { type: "local" }>;
export type KubernetesTargetConfig = Extract<TargetConfig, { type: "kubernetes" }>;
export type ProfileConfig = Config["profiles"][number];
export type EnvironmentConfig = Config["environments"][number];
