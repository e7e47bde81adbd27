/**
 * Cross-field rules of the kubernetes target: its storage names exactly one kind of
 * volume, profiles name node pools the block defines (and only on kubernetes), and
 * a group's gid is not a user's uid (each user's own group has the user's uid as its
 * gid there), and single sign-on lets in the file's users only. Whether host_path
 * storage fits the cluster (one node) can only be told online: the kubernetes target's hostPathProblem does that at plan time.
 */
import { type Ctx, isRec, list, type Rec, str } from "./rules-common.js";
import { suggestion } from "./suggest.js";
import { quote } from "./text.js";

const STORAGE_KINDS = ["storage_class", "nfs", "host_path"] as const;

export function checkKubernetes(ctx: Ctx, data: Rec): void {
  const target = isRec(data.target) ? data.target : {};
  const kubernetes = target.type === "kubernetes";
  const pools = kubernetes ? target.node_pools : undefined;
  checkProfilePools(ctx, ["profiles"], list(data, "profiles"), pools, kubernetes);
  const dask = isRec(data.dask) ? data.dask : {};
  checkProfilePools(ctx, ["dask", "worker_profiles"], list(dask, "worker_profiles"), pools, kubernetes);
  if (!kubernetes) return;
  if (isRec(target.storage)) checkStorage(ctx, target.storage);
  if (isRec(target.expose)) checkSshNodePort(ctx, target.expose);
  checkOwnGroups(ctx, list(data, "users"), list(data, "groups"));
  if (isRec(data.auth) && data.auth.type === "oidc") checkClusterLogins(ctx, data.auth);
}

/**
 * Single sign-on on a cluster lets in the file's users only: a user's pod runs with
 * the uid and groups deploy gave them, so the hub can't make an account at a first
 * login (allowed_groups) or give groups the file does not (group_map).
 */
function checkClusterLogins(ctx: Ctx, auth: Rec): void {
  const allowed = Array.isArray(auth.allowed_groups) ? auth.allowed_groups : [];
  if (allowed.length > 0) {
    ctx.problems.push({
      path: ["auth", "allowed_groups"],
      atKey: true,
      message:
        "allowed_groups can't be used on the kubernetes target: only the file's users log in there (each user's pods run with the uid deploy gave them)",
      hint: "list the people under users: and remove allowed_groups",
    });
  }
  if (isRec(auth.group_map) && Object.keys(auth.group_map).length > 0) {
    ctx.problems.push({
      path: ["auth", "group_map"],
      atKey: true,
      message:
        "group_map can't be used on the kubernetes target: a user's groups there are the file's (their pods' supplemental groups)",
      hint: "give users their groups under users: and remove group_map",
    });
  }
}

/** The SSH gateway's node port is not the platform's. */
function checkSshNodePort(ctx: Ctx, expose: Rec): void {
  if (expose.ssh_port === undefined || expose.ssh_port !== expose.port) return;
  ctx.problems.push({
    path: ["target", "expose", "ssh_port"],
    atKey: false,
    message: `ssh_port ${String(expose.ssh_port)} is also the platform's node port`,
    hint: "give the SSH gateway a node port of its own, or leave ssh_port out to let the cluster pick one",
  });
}

function checkStorage(ctx: Ctx, storage: Rec): void {
  const path = ["target", "storage"];
  const given = STORAGE_KINDS.filter((k) => storage[k] !== undefined);
  if (given.length === 0) {
    ctx.problems.push({
      path,
      atKey: true,
      message: "storage names no volume",
      hint: "add one of storage_class (with size), nfs or host_path",
    });
  }
  for (const extra of given.slice(1)) {
    ctx.problems.push({
      path: [...path, extra],
      atKey: true,
      message: `${extra} can't be given together with ${given[0]}`,
      hint: "keep exactly one of storage_class, nfs and host_path",
    });
  }
  if (storage.storage_class !== undefined && storage.size === undefined) {
    ctx.problems.push({
      path,
      atKey: true,
      message: "storage_class needs a size",
      hint: "add size: 100Gi (the volume the class provisions)",
    });
  }
  if (storage.size !== undefined && storage.storage_class === undefined && given.length > 0) {
    ctx.problems.push({
      path: [...path, "size"],
      atKey: true,
      message: "size is only used with storage_class",
      hint: `remove it: the size of ${given[0]} storage is the server's or the node's`,
    });
  }
}

/** Profiles (of servers, or of Dask workers) name node pools the kubernetes block defines. */
function checkProfilePools(
  ctx: Ctx,
  at: Array<string | number>,
  profiles: Rec[],
  pools: unknown,
  kubernetes: boolean,
): void {
  const known = isRec(pools) ? Object.keys(pools) : [];
  profiles.forEach((p, i) => {
    const pool = str(p.node_pool);
    const path = [...at, i, "node_pool"];
    if (pool === undefined || ctx.failed(path)) return;
    if (!kubernetes) {
      ctx.problems.push({
        path,
        atKey: true,
        message: "node_pool is only used with a kubernetes target",
        hint: "remove it: the local target runs everything on this machine",
      });
    } else if (!known.includes(pool)) {
      ctx.problems.push({
        path,
        message: `node pool ${quote(pool)} is not defined in target.node_pools`,
        hint:
          known.length === 0
            ? `no node pools are defined; add target.node_pools.${pool} with the labels of its nodes`
            : suggestion(pool, known, "node pools"),
      });
    }
  });
}

/** Each user runs with a group of their own whose gid is their uid: no group of the file may have it. */
function checkOwnGroups(ctx: Ctx, users: Rec[], groups: Rec[]): void {
  const uids = new Map<number, string>();
  for (const u of users) {
    const name = str(u.name);
    if (typeof u.uid === "number" && name !== undefined && !uids.has(u.uid)) uids.set(u.uid, name);
  }
  groups.forEach((g, i) => {
    const owner = typeof g.gid === "number" ? uids.get(g.gid) : undefined;
    if (owner === undefined) return;
    ctx.problems.push({
      path: ["groups", i, "gid"],
      message: `gid ${String(g.gid)} is also the uid of user ${quote(owner)}`,
      hint: "on kubernetes each user's own group has their uid as gid; give the group another gid",
    });
  });
}
