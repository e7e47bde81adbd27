/**
 * Dask clusters for every user: the real dask-gateway-server with Atrium's
 * LocalBackend (python/atrium_hub/dask_gateway.py), authenticated through the hub,
 * reached through the platform's proxy under /services/dask-gateway/. This module
 * renders its JSON, its process, its hub service and the users' client config.
 */
import { posix } from "node:path";
import { DASHBOARD_PORT_COUNT, DEFAULT_PIDS_LIMIT } from "../../config/schema.js";
import type { DaskAuthConfig } from "../../contracts/dask-auth.js";
import type { DaskGatewaySettings } from "../../contracts/dask-gateway.js";
import type { HubService } from "../../contracts/hub-settings.js";
import type { Platform } from "../../model/platform.js";
import { gatewayLimits, gatewayWorkerProfiles } from "../dask-gateway-parts.js";
import { daskEnvironmentsFile } from "./envs.js";
import type { LocalPlacement } from "./placement.js";
import type { ProcessSpec } from "./process-spec.js";
import { secretPath } from "./secrets.js";
import { hubUrl, publicUrl } from "./urls.js";

export const GATEWAY_SERVICE = "dask-gateway";
export const GATEWAY_PREFIX = `/services/${GATEWAY_SERVICE}`;
export const GATEWAY_CONFIG_FILE = "dask-gateway/gateway.json";
export const GATEWAY_CONFIG_PY = "dask-gateway/dask_gateway_config.py";
export const DASK_CLIENT_CONFIG = "dask/gateway.yaml";
export const GATEWAY_FIREWALL_FILE = "dask-gateway/firewall.nft";

export const GATEWAY_CONFIG_PY_TEXT = `# dask-gateway-server's settings come from gateway.json (path in ATRIUM_GATEWAY_CONFIG),
# rendered by \`atrium render\`; the code that applies them is atrium_hub.dask_gateway.
from atrium_hub.dask_gateway import apply, load_settings_from_env

apply(c, load_settings_from_env())  # noqa: F821 - c is provided by dask-gateway-server
`;

export function gatewayDataDir(placement: LocalPlacement): string {
  return posix.join(placement.paths.dataDir, "dask-gateway");
}

/** Each cluster's working folder (0700, owned by its user) is made below this. */
export function gatewayClustersDir(placement: LocalPlacement): string {
  return posix.join(placement.paths.dataDir, "dask-clusters");
}

/** dask-gateway's database, encrypted with the `dask_gateway_db_key` secret. */
export function gatewayDbFile(placement: LocalPlacement): string {
  return posix.join(gatewayDataDir(placement), "gateway.sqlite");
}

export function renderGatewayConfig(platform: Platform, placement: LocalPlacement): DaskGatewaySettings {
  const { dask } = platform;
  const { paths } = placement;
  return {
    project: platform.project.name,
    hub_api_url: `${hubUrl(placement)}/hub/api`,
    service_name: GATEWAY_SERVICE,
    api_token_file: secretPath(placement, "dask_gateway_api_token"),
    db_url: `sqlite:///${gatewayDbFile(placement)}`,
    db_key_file: secretPath(placement, "dask_gateway_db_key"),
    // The private API listens on a port the system picks; only the gateway's own proxy uses it.
    address: "127.0.0.1:0",
    // The schedulers' TLS connections have a port of their own, which serves nothing
    // else; the HTTP routes (API and dashboards) listen on a port only root may
    // connect to (dask-firewall.ts), so everyone reaches them through Atrium's guard.
    proxy: {
      address: gatewayWebAddress(placement),
      tcp_address: gatewayProxyAddress(placement),
      prefix: GATEWAY_PREFIX,
    },
    // Schedulers run as their users, who may not reach the web proxy: they call the
    // gateway's API through the guard, which passes API calls on untouched.
    api_url: `http://127.0.0.1:${placement.network.ports.dask_gateway}${GATEWAY_PREFIX}/api`,
    clusters_dir: gatewayClustersDir(placement),
    worker_profiles: gatewayWorkerProfiles(platform),
    scheduler_memory: dask.schedulerMemory,
    environments: [{ name: "default", bin: posix.join(paths.userVenv, "bin"), users: null }],
    // managed environments (written by the environment service, read at each cluster request)
    environments_file: daskEnvironmentsFile(placement),
    // loaded by the gateway at each start: its web proxy never runs without the rule
    firewall_file: posix.join(paths.etcDir, GATEWAY_FIREWALL_FILE),
    dashboard_ports: dashboardPorts(placement),
    limits: gatewayLimits(platform),
    idle_timeout: dask.idleTimeout,
    cgroup: {
      mode: "auto",
      v1_root: "/sys/fs/cgroup",
      parent: `${placement.cgroupParent}/dask`,
      pids_limit: DEFAULT_PIDS_LIMIT,
    },
  };
}

function gatewayProxyAddress(placement: LocalPlacement): string {
  return `127.0.0.1:${placement.network.ports.dask_scheduler_proxy}`;
}

function gatewayWebAddress(placement: LocalPlacement): string {
  return `127.0.0.1:${placement.network.ports.dask_gateway_web}`;
}

/** `at-e2eab` -> `atrium_at_e2eab`: project names are DNS labels, so this stays unique. */
/** First and last port of the block schedulers' dashboards listen on. */
export function dashboardPorts(placement: LocalPlacement): [number, number] {
  const first = placement.network.ports.dask_dashboards;
  return [first, first + DASHBOARD_PORT_COUNT - 1];
}

export function firewallTable(platform: Platform): string {
  return `atrium_${platform.project.name.replaceAll("-", "_")}`;
}

/** The nft script (components/dask-firewall.ts) that (re)defines the project's table with the one rule. */
export function firewallScript(platform: Platform, placement: LocalPlacement): string {
  const table = `inet ${firewallTable(platform)}`;
  const port = placement.network.ports.dask_gateway_web;
  const [first, last] = dashboardPorts(placement);
  return [
    // Creating it empty first makes the delete succeed on the first deploy too.
    `table ${table} {}`,
    `delete table ${table}`,
    `table ${table} {`,
    "  chain output {",
    "    type filter hook output priority filter; policy accept;",
    `    oifname "lo" tcp dport ${port} meta skuid != 0 counter reject with tcp reset comment "dask-gateway web proxy: root only"`,
    `    oifname "lo" tcp dport ${first}-${last} meta skuid != 0 counter reject with tcp reset comment "Dask dashboards: root only"`,
    "  }",
    "}",
    "",
  ].join("\n");
}

export const DASK_AUTH_CONFIG = "services/dask-auth.json";

export function renderDaskAuthConfig(placement: LocalPlacement): DaskAuthConfig {
  return {
    listen: { host: "127.0.0.1", port: placement.network.ports.dask_gateway },
    upstream: `http://${gatewayWebAddress(placement)}`,
    prefix: GATEWAY_PREFIX,
    hubApiUrl: `${hubUrl(placement)}/hub/api`,
    hubPrefix: "/hub",
    clientId: `service-${GATEWAY_SERVICE}`,
    apiTokenFile: secretPath(placement, "dask_gateway_api_token"),
  };
}

export function daskAuthProcess(placement: LocalPlacement): ProcessSpec {
  const { paths } = placement;
  return {
    name: "dask-auth",
    command: ["@atrium", "service", "dask-auth", "--config", posix.join(paths.etcDir, DASK_AUTH_CONFIG)],
    env: {},
    secretEnv: {},
    cwd: paths.stateDir,
    log: posix.join(paths.logDir, "dask-auth.log"),
    pidFile: posix.join(paths.runDir, "dask-auth.pid"),
    restartOn: [`artifact:${DASK_AUTH_CONFIG}`, "atrium:code"],
  };
}

export function gatewayProcess(placement: LocalPlacement): ProcessSpec {
  const { paths } = placement;
  return {
    name: GATEWAY_SERVICE,
    command: [
      posix.join(paths.hubVenv, "bin", "dask-gateway-server"),
      "-f",
      posix.join(paths.etcDir, GATEWAY_CONFIG_PY),
    ],
    env: {
      ATRIUM_GATEWAY_CONFIG: posix.join(paths.etcDir, GATEWAY_CONFIG_FILE),
      JUPYTERHUB_SERVICE_NAME: GATEWAY_SERVICE,
    },
    secretEnv: {},
    cwd: gatewayDataDir(placement),
    log: posix.join(paths.logDir, `${GATEWAY_SERVICE}.log`),
    pidFile: posix.join(paths.runDir, `${GATEWAY_SERVICE}.pid`),
    restartOn: [
      `artifact:${GATEWAY_CONFIG_FILE}`,
      `artifact:${GATEWAY_CONFIG_PY}`,
      `artifact:${GATEWAY_FIREWALL_FILE}`,
      "component:hub-env",
      "component:hub-glue",
    ],
  };
}

export function gatewayHubService(placement: LocalPlacement): HubService {
  return {
    name: GATEWAY_SERVICE,
    url: `http://127.0.0.1:${placement.network.ports.dask_gateway}`,
    api_token_file: secretPath(placement, "dask_gateway_api_token"),
    oauth_redirect_uri: `${GATEWAY_PREFIX}/oauth_callback`,
    user_access: true,
  };
}

/** The users' client config, so `Gateway()` needs no arguments in the default env. */
export function renderDaskClientConfig(placement: LocalPlacement): string {
  const url = publicUrl(placement);
  const host = new URL(url).hostname;
  return `# Written by Atrium: how the dask-gateway client reaches this platform's gateway.
gateway:
  address: "${url}${GATEWAY_PREFIX}"
  public-address: "${GATEWAY_PREFIX}"
  proxy-address: "tls://${host}:${placement.network.ports.dask_scheduler_proxy}"
  auth:
    type: jupyterhub
`;
}
