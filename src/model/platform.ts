/**
 * The Platform: the desired state derived purely from a valid Config, independent
 * of where it runs: no folders, ports, cgroups or Linux accounts (each target derives
 * those from its own config block). Sizes are bytes, durations seconds, lists sorted
 * where order carries no meaning. Nothing below this module reads the raw config.
 */

import { type Config, DEFAULT_PIDS_LIMIT } from "../config/schema.js";
import { parseDuration, parseSize } from "../config/units.js";
import { normalizeName } from "../requirements/pep508.js";
import { deriveAuth, type PlatformAuth } from "./auth.js";
import { deriveEnvironments, type PlatformEnvironment } from "./environments.js";
import { deriveSecrets, type SecretSpec } from "./secrets.js";

export type { PlatformEnvironment } from "./environments.js";

export interface PlatformUser {
  name: string;
  admin: boolean;
  groups: string[];
}

export interface PlatformGroup {
  name: string;
  description: string;
  /** Whether the group has a shared folder (where it is, each target decides). */
  shared: boolean;
  members: string[];
}

export interface PlatformProfile {
  name: string;
  displayName: string;
  description: string;
  cpuLimit?: number;
  cpuGuarantee?: number;
  memLimit?: number;
  memGuarantee?: number;
  /** Most tasks (processes and threads) in the server's cgroup. */
  pidsLimit: number;
  gpus: number;
  default: boolean;
  groups: string[];
  users: string[];
  /** The node pool its servers run on, where the target has pools (kubernetes); absent: anywhere. */
  nodePool?: string;
}

export interface Platform {
  project: { name: string; title: string; welcome: string };
  auth: PlatformAuth;
  users: PlatformUser[];
  groups: PlatformGroup[];
  profiles: PlatformProfile[];
  environments: PlatformEnvironment[];
  /** Packages builds compile from source (PEP 503 names, sorted); all else is wheels only. */
  environmentBuilds: { allowSource: string[] };
  dask: {
    enabled: boolean;
    workerProfiles: Array<{
      name: string;
      cores: number;
      memory: number;
      threads: number;
      nodePool?: string;
    }>;
    /** Bytes for each cluster's scheduler, counted in maxMemory. */
    schedulerMemory: number;
    limits: { maxWorkers: number; maxCores: number; maxMemory: number; maxClusters: number };
    idleTimeout: number;
  };
  ssh: { enabled: boolean; port: number };
  videochat: { enabled: boolean; jitsiDomain: string; rooms: string[] };
  idleCuller: { enabled: boolean; timeout: number; every: number; maxAge: number };
  /** The secrets the platform needs, by name and kind (their values live with the target). */
  secrets: SecretSpec[];
  /** The first admin in the file's order: gets the generated first password. */
  firstAdmin: string | null;
}

/** The profile used when the file lists none: open to all, no limits. */
export const FALLBACK_PROFILE: PlatformProfile = {
  name: "default",
  displayName: "Default",
  description: "The standard environment.",
  pidsLimit: DEFAULT_PIDS_LIMIT,
  gpus: 0,
  default: true,
  groups: [],
  users: [],
};

const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

function bytes(v: string | number | undefined): number | undefined {
  return v === undefined ? undefined : parseSize(v);
}

function seconds(v: string | number): number {
  const s = parseDuration(v);
  if (s === undefined) throw new Error(`duration ${String(v)} passed validation but does not parse`);
  return s;
}

function required(v: number | undefined, what: string): number {
  if (v === undefined) throw new Error(`${what} passed validation but does not parse`);
  return v;
}

/**
 * The Platform of a valid config. `configDir` is the config file's folder: environment
 * files are read from there (an unreadable one throws, naming its key).
 */
export function derivePlatform(config: Config, configDir = "."): Platform {
  const users: PlatformUser[] = config.users
    .map((u) => {
      const user: PlatformUser = { name: u.name, admin: u.admin, groups: [...new Set(u.groups)].sort() };
      return user;
    })
    .sort(byName);
  const groups: PlatformGroup[] = config.groups
    .map((g) => {
      const group: PlatformGroup = {
        name: g.name,
        description: g.description ?? "",
        shared: g.shared_folder,
        members: users.filter((u) => u.groups.includes(g.name)).map((u) => u.name),
      };
      return group;
    })
    .sort(byName);
  const profiles: PlatformProfile[] =
    config.profiles.length === 0
      ? [FALLBACK_PROFILE]
      : config.profiles.map((p) => {
          const profile: PlatformProfile = {
            name: p.name,
            displayName: p.display_name,
            description: p.description,
            pidsLimit: p.pids_limit,
            gpus: p.gpus,
            default: p.default,
            groups: [...p.groups].sort(),
            users: [...p.users].sort(),
          };
          if (p.cpu_limit !== undefined) profile.cpuLimit = p.cpu_limit;
          if (p.cpu_guarantee !== undefined) profile.cpuGuarantee = p.cpu_guarantee;
          const memLimit = bytes(p.mem_limit);
          const memGuarantee = bytes(p.mem_guarantee);
          if (memLimit !== undefined) profile.memLimit = memLimit;
          if (memGuarantee !== undefined) profile.memGuarantee = memGuarantee;
          if (p.node_pool !== undefined) profile.nodePool = p.node_pool;
          return profile;
        });
  return {
    project: {
      name: config.project.name,
      title: config.project.title ?? config.project.name,
      welcome: config.project.welcome ?? "",
    },
    auth: deriveAuth(config.auth),
    users,
    groups,
    profiles,
    environments: deriveEnvironments(config.environments, configDir),
    environmentBuilds: {
      allowSource: [...new Set(config.environment_builds.allow_source.map(normalizeName))].sort(),
    },
    dask: {
      enabled: config.dask.enabled,
      workerProfiles: config.dask.worker_profiles.map((w) => ({
        name: w.name,
        cores: w.cores,
        memory: required(bytes(w.memory), "worker memory"),
        threads: w.threads,
        ...(w.node_pool === undefined ? {} : { nodePool: w.node_pool }),
      })),
      schedulerMemory: required(bytes(config.dask.scheduler_memory), "scheduler_memory"),
      limits: {
        maxWorkers: config.dask.limits.max_workers,
        maxCores: config.dask.limits.max_cores,
        maxMemory: required(bytes(config.dask.limits.max_memory), "max_memory"),
        maxClusters: config.dask.limits.max_clusters,
      },
      idleTimeout: seconds(config.dask.idle_timeout),
    },
    ssh: { ...config.ssh },
    videochat: {
      enabled: config.videochat.enabled,
      jitsiDomain: config.videochat.jitsi_domain,
      rooms: [...config.videochat.rooms].sort(),
    },
    idleCuller: {
      enabled: config.idle_culler.enabled,
      timeout: seconds(config.idle_culler.timeout),
      every: seconds(config.idle_culler.every),
      maxAge: seconds(config.idle_culler.max_age),
    },
    secrets: deriveSecrets(config.dask.enabled),
    firstAdmin: config.users.find((u) => u.admin)?.name ?? null,
  };
}

/** Whether a user may use a profile: open profiles to all, otherwise by name or group. */
export function mayUseProfile(profile: PlatformProfile, user: PlatformUser): boolean {
  if (profile.groups.length === 0 && profile.users.length === 0) return true;
  return profile.users.includes(user.name) || user.groups.some((g) => profile.groups.includes(g));
}
