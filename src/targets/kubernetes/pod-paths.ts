/**
 * Where things are inside the platform's pods, and the ports they listen on: the
 * same in every cluster, so they are constants rather than placement.
 */
import { posix } from "node:path";

/** The shared volume, whole, in the hub and the storage-prepare job. */
export const VOLUME_MOUNT = "/srv/atrium";
/** The hub's database volume. */
export const HUB_DATA_DIR = "/srv/jupyterhub";
/** The hub settings ConfigMap. */
export const HUB_CONFIG_DIR = "/etc/atrium/hub";
export const HUB_SETTINGS_FILE = posix.join(HUB_CONFIG_DIR, "atrium_hub.json");
export const HUB_CONFIG_PY = posix.join(HUB_CONFIG_DIR, "jupyterhub_config.py");
/** The platform's Secret, as files (only the keys a pod needs). */
export const SECRETS_DIR = "/etc/atrium/secrets";
/** The Python environments on the volume (read-only in user pods). */
export const ENVS_MOUNT = "/opt/atrium/envs";
export const HUB_ENV = posix.join(ENVS_MOUNT, "hub");
export const USER_ENV = posix.join(ENVS_MOUNT, "user");
/** Node.js (from a wheel) the environment service runs on. */
export const NODE_ENV = posix.join(ENVS_MOUNT, "node");
/** The environment service's namespaces, environments and builds, and its own folders. */
export const MANAGED_DIR = "managed";
export const MANAGED_ENVS = posix.join(ENVS_MOUNT, MANAGED_DIR);
/** The managed environments Dask clusters may run in, written by the environment service. */
export const DASK_ENVIRONMENTS_FILE = posix.join(MANAGED_ENVS, ".dask-environments.json");
/** Per-user kernelspecs of managed environments: <this>/<user> goes on a server's JUPYTER_PATH. */
export const KERNELS_DIR = posix.join(MANAGED_ENVS, ".kernels");
/** The environment service's config (a ConfigMap). */
export const ENVS_CONFIG_DIR = "/etc/atrium/envs";
/** The lockfiles and hub glue the envs are built from (a ConfigMap deploy makes from the repository). */
export const ENV_SOURCES_DIR = "/etc/atrium/env-sources";
/** The hub glue (python/atrium_hub), unpacked from its ConfigMap by an init container. */
export const GLUE_DIR = "/opt/atrium/glue";
/** dask-gateway's settings (a ConfigMap) and its database's folder on the shared volume. */
export const DASK_GATEWAY_CONFIG_DIR = "/etc/atrium/dask-gateway";
export const DASK_GATEWAY_DATA_DIR = "/srv/dask-gateway";
/** Users' homes and their groups' folders in user pods. */
export const HOME_ROOT = "/home";
export const SHARED_ROOT = "/shared";

export const HUB_PORT = 8081;
export const PROXY_PUBLIC_PORT = 8000;
export const PROXY_HTTPS_PORT = 8443;
export const PROXY_API_PORT = 8001;
export const SERVER_PORT = 8888;
export const ENVS_PORT = 8090;
export const SSH_PORT = 2222;

/**
 * The hub's own account: below the lowest uid a file may give (1000), so no user
 * of the platform can ever own the hub's database or environments.
 */
export const HUB_UID = 999;
/** The environment builds' account, below 1000 for the same reason. */
export const BUILD_UID = 998;
/** dask-gateway's own account (its database holds every cluster's token), below 1000 too. */
export const DASK_GATEWAY_UID = 997;

export function secretFile(name: string): string {
  return posix.join(SECRETS_DIR, name);
}

export function homeIn(user: string): string {
  return posix.join(HOME_ROOT, user);
}

export function sharedIn(group: string): string {
  return posix.join(SHARED_ROOT, group);
}
