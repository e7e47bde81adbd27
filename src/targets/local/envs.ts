/**
 * Managed environments on this machine: the environment service's rendered JSON,
 * its supervised process, its hub service entry (OAuth for the page, a token with
 * just enough scopes to read users and groups), and the paths the spawner and
 * dask-gateway read. The service itself is src/services/envs/.
 */
import { posix } from "node:path";
import type { EnvsServiceConfig } from "../../contracts/envs-service.js";
import type { HubService } from "../../contracts/hub-settings.js";
import type { Platform } from "../../model/platform.js";
import { BUILD_ACCOUNT, BUILDS, ENVS_PREFIX, ENVS_SERVICE, envsHubEntry } from "../envs-service-parts.js";
import type { LocalPlacement } from "./placement.js";
import type { ProcessSpec } from "./process-spec.js";
import { secretPath } from "./secrets.js";
import { hubUrl } from "./urls.js";
import { SYSTEM_PYTHON, toolsUv } from "./uv.js";

export { BUILD_ACCOUNT, ENVS_PREFIX, ENVS_SERVICE } from "../envs-service-parts.js";
export const ENVS_CONFIG = "services/envs.json";

export function envsStateDir(placement: LocalPlacement): string {
  return posix.join(placement.paths.envsDir, ".atrium");
}

/** Per-user kernelspec folders; the spawner adds <this>/<user> to JUPYTER_PATH. */
export function kernelsDir(placement: LocalPlacement): string {
  return posix.join(placement.paths.envsDir, ".kernels");
}

/** Worker environments dask-gateway offers besides the default one. */
export function daskEnvironmentsFile(placement: LocalPlacement): string {
  return posix.join(placement.paths.envsDir, ".dask-environments.json");
}

/**
 * uv's caches for environment builds, one per namespace below this root-owned folder
 * (`<this>/<namespace>`, owned by the build account): no build reads what another
 * namespace's build wrote. Apart from the platform's own cache.
 */
export function buildCacheDir(placement: LocalPlacement): string {
  return posix.join(placement.paths.prefix, "cache", "env-builds");
}

/** Each build's processes run in `<this>/build-<id>` (cgroup v1), under Atrium's own cgroup. */
export function buildCgroupParent(placement: LocalPlacement): string {
  return `${placement.cgroupParent}/builds`;
}

/** Where the service answers on this machine (deploy and the CLI talk to it directly). */
export function envsUrl(placement: LocalPlacement): string {
  return `http://127.0.0.1:${placement.network.ports.envs}${ENVS_PREFIX}`;
}

/** <envs_dir>/<namespace>/<env>/current: the environment's active build. */
export function envCurrent(placement: LocalPlacement, namespace: string, name: string): string {
  return posix.join(placement.paths.envsDir, namespace, name, "current");
}

export function renderEnvsConfig(platform: Platform, placement: LocalPlacement): EnvsServiceConfig {
  return {
    listen: { host: "127.0.0.1", port: placement.network.ports.envs },
    prefix: ENVS_PREFIX,
    hubApiUrl: `${hubUrl(placement)}/hub/api`,
    hubPrefix: "/hub",
    clientId: `service-${ENVS_SERVICE}`,
    apiTokenFile: secretPath(placement, "envs_api_token"),
    envsDir: placement.paths.envsDir,
    stateFile: posix.join(envsStateDir(placement), "state.json"),
    kernelsDir: kernelsDir(placement),
    daskEnvironmentsFile: platform.dask.enabled ? daskEnvironmentsFile(placement) : null,
    // the gateway runs as root here
    daskEnvironmentsOwner: null,
    python: SYSTEM_PYTHON,
    defaultEnv: placement.paths.userVenv,
    uv: { tools: toolsUv(placement), cacheDir: buildCacheDir(placement) },
    buildAccount: BUILD_ACCOUNT,
    builds: { ...BUILDS, allowSource: platform.environmentBuilds.allowSource },
    cgroup: { v1Root: "/sys/fs/cgroup", parent: buildCgroupParent(placement) },
    folderAccess: "acl",
    groupEditors: "members",
  };
}

export function envsProcess(placement: LocalPlacement): ProcessSpec {
  const { paths } = placement;
  return {
    name: ENVS_SERVICE,
    command: ["@atrium", "service", ENVS_SERVICE, "--config", posix.join(paths.etcDir, ENVS_CONFIG)],
    env: {},
    secretEnv: {},
    cwd: paths.stateDir,
    log: posix.join(paths.logDir, `${ENVS_SERVICE}.log`),
    pidFile: posix.join(paths.runDir, `${ENVS_SERVICE}.pid`),
    restartOn: [`artifact:${ENVS_CONFIG}`, "component:envs-setup", "atrium:code"],
  };
}

export function envsHubService(placement: LocalPlacement): HubService {
  return envsHubEntry(
    `http://127.0.0.1:${placement.network.ports.envs}`,
    secretPath(placement, "envs_api_token"),
  );
}
