/**
 * Where the local target puts a Platform on this machine: its folders, its loopback
 * ports, its cgroup parent, each user's Linux home, shell and uid, each group's gid and
 * shared folder. Derived purely from the config's local target block (and the Linux
 * details users and groups carry in the file); the Platform itself knows none of it.
 */
import { posix } from "node:path";
import type { Config, LocalTargetConfig } from "../../config/schema.js";
import { localTargetOf } from "../../config/target.js";

export interface LocalPaths {
  prefix: string;
  dataDir: string;
  stateDir: string;
  logDir: string;
  sharedDir: string;
  envsDir: string;
  homeDir: string;
  /** Rendered config files. */
  etcDir: string;
  secretsDir: string;
  hubDataDir: string;
  hubVenv: string;
  userVenv: string;
  runDir: string;
}

export interface LocalNetwork {
  address: string;
  port: number;
  https: { mode: "none" | "self-signed" | "manual"; cert?: string; key?: string };
  /** Loopback ports of the platform's own processes. */
  ports: LocalTargetConfig["ports"];
}

/** A user's Linux account. */
export interface LocalAccount {
  home: string;
  shell: string;
  uid?: number;
}

/** A group's Linux group and shared folder. */
export interface LocalGroup {
  gid?: number;
  /** Absolute path of the group's shared folder, or null when it has none. */
  sharedFolder: string | null;
}

export interface LocalPlacement {
  paths: LocalPaths;
  network: LocalNetwork;
  /** cgroup path, relative to each controller's root, under which servers and workers are placed. */
  cgroupParent: string;
  /** Each user of the file, by name. */
  accounts: ReadonlyMap<string, LocalAccount>;
  /** Each group of the file, by name. */
  groups: ReadonlyMap<string, LocalGroup>;
}

export function derivePaths(target: LocalTargetConfig): LocalPaths {
  const { prefix, data_dir, state_dir, log_dir, shared_dir, envs_dir, home_dir } = target;
  return {
    prefix,
    dataDir: data_dir,
    stateDir: state_dir,
    logDir: log_dir,
    sharedDir: shared_dir,
    envsDir: envs_dir,
    homeDir: home_dir,
    etcDir: posix.join(prefix, "etc"),
    secretsDir: posix.join(data_dir, "secrets"),
    hubDataDir: posix.join(data_dir, "hub"),
    hubVenv: posix.join(prefix, "venvs", "hub"),
    userVenv: posix.join(prefix, "venvs", "user"),
    runDir: posix.join(state_dir, "run"),
  };
}

export function derivePlacement(config: Config): LocalPlacement {
  const target = localTargetOf(config);
  const paths = derivePaths(target);
  const accounts = new Map<string, LocalAccount>();
  for (const u of config.users) {
    const account: LocalAccount = { home: posix.join(paths.homeDir, u.name), shell: u.shell };
    if (u.uid !== undefined) account.uid = u.uid;
    accounts.set(u.name, account);
  }
  const groups = new Map<string, LocalGroup>();
  for (const g of config.groups) {
    const group: LocalGroup = { sharedFolder: g.shared_folder ? posix.join(paths.sharedDir, g.name) : null };
    if (g.gid !== undefined) group.gid = g.gid;
    groups.set(g.name, group);
  }
  return {
    paths,
    network: {
      address: target.address,
      port: target.port,
      https: { ...target.https },
      ports: { ...target.ports },
    },
    cgroupParent: `atrium/${config.project.name}`,
    accounts,
    groups,
  };
}

/** The Linux account of a user of the file. */
export function accountOf(placement: LocalPlacement, name: string): LocalAccount {
  const account = placement.accounts.get(name);
  if (account === undefined) throw new Error(`user ${name} has no placement: it is not in the platform`);
  return account;
}

/** The Linux group and shared folder of a group of the file. */
export function groupOf(placement: LocalPlacement, name: string): LocalGroup {
  const group = placement.groups.get(name);
  if (group === undefined) throw new Error(`group ${name} has no placement: it is not in the platform`);
  return group;
}

/** A user's home folder, also for a name the file does not list (an account made at sign-on). */
export function homeOf(placement: LocalPlacement, name: string): string {
  return placement.accounts.get(name)?.home ?? posix.join(placement.paths.homeDir, name);
}
