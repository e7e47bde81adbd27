/**
 * Where the kubernetes target puts a Platform on a cluster: the namespace, the names
 * and labels of the objects it makes, each user's uid, own gid and supplementary
 * groups, each group's gid and folder on the shared volume, and each profile's
 * resources and node placement. Derived purely from the Platform, the config's
 * kubernetes block and the identity record (identities.ts); the Platform knows none
 * of it.
 *
 * Must stay true: every object Atrium makes carries the ApplySet part-of label (the
 * inventory deploy prunes by), and nothing it does not own does: user pods, made by
 * the hub, carry the instance labels but never part-of, so a prune never stops a server.
 */
import { createHash } from "node:crypto";
import { posix } from "node:path";
import type { KubernetesTargetConfig } from "../../config/schema.js";
import { parseSize } from "../../config/units.js";
import type { Platform, PlatformProfile } from "../../model/platform.js";
import type { IdentityRecord } from "./identities.js";

/** The Secret that will hold Atrium's deploy state: the ApplySet's parent object. */
export const STATE_SECRET = "atrium-state";

/** The ApplySet label: the inventory of the objects Atrium applies (and may prune). */
export const PART_OF_LABEL = "applyset.kubernetes.io/part-of";

/** The names of the objects Atrium makes in the namespace (the persistent volume's is cluster-wide). */
export interface ObjectNames {
  hubServiceAccount: string;
  hubRole: string;
  hub: string;
  proxy: string;
  proxyApi: string;
  proxyPublic: string;
  hubSettings: string;
  accounts: string;
  sharedClaim: string;
  sharedVolume: string;
  hubDatabase: string;
  storagePrepare: string;
  secrets: string;
  tls: string;
  ingress: string;
  envs: string;
  envsConfig: string;
  /** The Secret holding single sign-on's client secret. */
  oidcClient: string;
  /** dask-gateway's Deployment, Service, ConfigMap, account and Role. */
  daskGateway: string;
  /** The SSH gateway's Deployment, Service, config ConfigMap, account and Role. */
  sshGateway: string;
  /** The ConfigMap the SSH gateway keeps its sessions in. */
  sshStatus: string;
}

export interface KubernetesUser {
  uid: number;
  /** The user's own group, whose gid is the uid. */
  gid: number;
  /** The gids of the user's groups, sorted. */
  supplementalGids: number[];
  /** Relative to the shared volume's root. */
  home: string;
}

export interface KubernetesGroup {
  gid: number;
  /** Relative to the shared volume's root; null when the group has no shared folder. */
  folder: string | null;
}

export interface Toleration {
  key: string;
  operator: "Equal" | "Exists";
  value?: string;
  effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
}

/** Resource quantities as Kubernetes writes them ("500m" cores are written as numbers of cores). */
export interface ResourceList {
  cpu?: string;
  memory?: string;
  "nvidia.com/gpu"?: string;
}

/** Where pods of a node pool land: its nodes' labels, and tolerations of its taints. */
export interface PoolPlacement {
  nodeSelector: Record<string, string>;
  tolerations: Toleration[];
}

export interface KubernetesProfile extends PoolPlacement {
  requests: ResourceList;
  limits: ResourceList;
}

export interface KubernetesPlacement {
  namespace: string;
  /** The ApplySet id of the platform's objects (from its parent, the state Secret). */
  applySet: string;
  names: ObjectNames;
  block: KubernetesTargetConfig;
  users: ReadonlyMap<string, KubernetesUser>;
  groups: ReadonlyMap<string, KubernetesGroup>;
  profiles: ReadonlyMap<string, KubernetesProfile>;
  /** Each Dask worker profile's node pool. */
  workerPools: ReadonlyMap<string, PoolPlacement>;
  /** Relative to the shared volume's root: the managed environments and the hub's and users' envs. */
  envsDir: string;
  /** Sizes as Kubernetes quantities: the shared volume's (a storage class's only) and the hub database's. */
  sizes: { shared: string | null; hubDatabase: string };
}

/** The volume's folders, relative to its root. */
export const VOLUME_DIRS = {
  home: "home",
  shared: "shared",
  envs: "envs",
  daskGateway: "dask-gateway",
} as const;

/**
 * The ApplySet id of a parent object, as the ApplySet specification (KEP-3659) and
 * kubectl compute it: base64url of sha256 over <name>.<namespace>.<kind>.<group>.
 */
export function applySetId(name: string, namespace: string, kind: string, group: string): string {
  const digest = createHash("sha256").update(`${name}.${namespace}.${kind}.${group}`).digest("base64url");
  return `applyset-${digest}-v1`;
}

/** The Secret of single sign-on's client secret: one name in every namespace. */
export const OIDC_CLIENT_SECRET = "oidc-client";

export function objectNames(namespace: string): ObjectNames {
  return {
    hubServiceAccount: "hub",
    hubRole: "hub",
    hub: "hub",
    proxy: "proxy",
    proxyApi: "proxy-api",
    proxyPublic: "proxy-public",
    hubSettings: "hub-settings",
    accounts: "accounts",
    sharedClaim: "shared",
    // cluster-wide, so named after the namespace too
    sharedVolume: `atrium-${namespace}-shared`,
    hubDatabase: "hub-db",
    storagePrepare: "storage-prepare",
    secrets: "atrium-secrets",
    tls: "proxy-tls",
    ingress: "proxy-public",
    envs: "envs",
    envsConfig: "envs-config",
    oidcClient: OIDC_CLIENT_SECRET,
    daskGateway: "dask-gateway",
    sshGateway: "ssh-gateway",
    sshStatus: "ssh-status",
  };
}

/** Labels of one part of the platform (z2jh's conventions where they fit). */
export function labelsOf(
  placement: Pick<KubernetesPlacement, "applySet">,
  project: string,
  component: string,
): Record<string, string> {
  return {
    ...instanceLabels(project, component),
    [PART_OF_LABEL]: placement.applySet,
  };
}

/** The labels that find a part, without the inventory label (user pods carry these only). */
export function instanceLabels(project: string, component: string): Record<string, string> {
  return {
    "app.kubernetes.io/component": component,
    "app.kubernetes.io/instance": project,
    "app.kubernetes.io/managed-by": "atrium",
    "app.kubernetes.io/name": "atrium",
  };
}

/** A Service's or policy's selector: the part's instance and component. */
export function selectorOf(project: string, component: string): Record<string, string> {
  return { "app.kubernetes.io/component": component, "app.kubernetes.io/instance": project };
}

function idOf(ids: Record<string, number>, name: string, what: string): number {
  const id = ids[name];
  if (id === undefined) throw new Error(`${what} ${name} has no id in the identity record`);
  return id;
}

// largest first, binary before decimal at each magnitude: 2Gi stays 2Gi, 4G stays 4G
const UNITS = [
  ["Ti", 2 ** 40],
  ["T", 1e12],
  ["Gi", 2 ** 30],
  ["G", 1e9],
  ["Mi", 2 ** 20],
  ["M", 1e6],
  ["Ki", 2 ** 10],
  ["k", 1e3],
] as const;

/** Kubernetes' quantity for a number of bytes: the largest unit that divides it ("2Gi", "500M", "1234"). */
export function bytesQuantity(bytes: number): string {
  for (const [unit, factor] of UNITS) {
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return String(bytes);
}

function sizeQuantity(size: string | number, what: string): string {
  const bytes = parseSize(size);
  if (bytes === undefined) throw new Error(`${what} ${String(size)} passed validation but does not parse`);
  return bytesQuantity(bytes);
}

/** Kubernetes' quantity for a number of cores: whole cores as they are, else millicores. */
export function cpuQuantity(cores: number): string {
  return Number.isInteger(cores) ? String(cores) : `${Math.round(cores * 1000)}m`;
}

function profilePlacement(profile: PlatformProfile, block: KubernetesTargetConfig): KubernetesProfile {
  const requests: ResourceList = {};
  const limits: ResourceList = {};
  if (profile.cpuGuarantee !== undefined) requests.cpu = cpuQuantity(profile.cpuGuarantee);
  if (profile.memGuarantee !== undefined) requests.memory = bytesQuantity(profile.memGuarantee);
  if (profile.cpuLimit !== undefined) limits.cpu = cpuQuantity(profile.cpuLimit);
  if (profile.memLimit !== undefined) limits.memory = bytesQuantity(profile.memLimit);
  if (profile.gpus > 0) limits["nvidia.com/gpu"] = String(profile.gpus);
  return { requests, limits, ...poolPlacement(profile.nodePool, block, `profile ${profile.name}`) };
}

/** A node pool's labels as a node selector and its taints tolerated; no pool: any node. */
function poolPlacement(name: string | undefined, block: KubernetesTargetConfig, what: string): PoolPlacement {
  const pool = name === undefined ? undefined : block.node_pools[name];
  if (name !== undefined && pool === undefined) {
    throw new Error(`${what} names node pool ${name}, which validation let through`);
  }
  return {
    nodeSelector: { ...(pool?.labels ?? {}) },
    tolerations: (pool?.taints ?? []).map((t) => {
      const toleration: Toleration = {
        key: t.key,
        operator: t.value === undefined ? "Exists" : "Equal",
        effect: t.effect,
      };
      if (t.value !== undefined) toleration.value = t.value;
      return toleration;
    }),
  };
}

export function derivePlacement(
  platform: Platform,
  block: KubernetesTargetConfig,
  identities: IdentityRecord,
): KubernetesPlacement {
  const namespace = block.namespace ?? platform.project.name;
  const groups = new Map<string, KubernetesGroup>();
  for (const g of platform.groups) {
    groups.set(g.name, {
      gid: idOf(identities.groups, g.name, "group"),
      folder: g.shared ? posix.join(VOLUME_DIRS.shared, g.name) : null,
    });
  }
  const users = new Map<string, KubernetesUser>();
  for (const u of platform.users) {
    const uid = idOf(identities.users, u.name, "user");
    users.set(u.name, {
      uid,
      gid: uid,
      supplementalGids: u.groups.map((g) => idOf(identities.groups, g, "group")).sort((a, b) => a - b),
      home: posix.join(VOLUME_DIRS.home, u.name),
    });
  }
  return {
    namespace,
    applySet: applySetId(STATE_SECRET, namespace, "Secret", ""),
    names: objectNames(namespace),
    block,
    users,
    groups,
    profiles: new Map(platform.profiles.map((p) => [p.name, profilePlacement(p, block)])),
    workerPools: new Map(
      platform.dask.workerProfiles.map((w) => [
        w.name,
        poolPlacement(w.nodePool, block, `Dask worker profile ${w.name}`),
      ]),
    ),
    envsDir: VOLUME_DIRS.envs,
    sizes: {
      shared: block.storage.size === undefined ? null : sizeQuantity(block.storage.size, "storage.size"),
      hubDatabase: sizeQuantity(block.hub_storage.size, "hub_storage.size"),
    },
  };
}

/** The placement of a user of the file. */
export function userOf(placement: KubernetesPlacement, name: string): KubernetesUser {
  const user = placement.users.get(name);
  if (user === undefined) throw new Error(`user ${name} has no placement: it is not in the platform`);
  return user;
}

/** The placement of a group of the file. */
export function groupOf(placement: KubernetesPlacement, name: string): KubernetesGroup {
  const group = placement.groups.get(name);
  if (group === undefined) throw new Error(`group ${name} has no placement: it is not in the platform`);
  return group;
}

/** The placement of a profile of the platform. */
export function profileOf(placement: KubernetesPlacement, name: string): KubernetesProfile {
  const profile = placement.profiles.get(name);
  if (profile === undefined) throw new Error(`profile ${name} has no placement: it is not in the platform`);
  return profile;
}
