/**
 * What the supervisor runs: one entry per long-running process, with its command,
 * environment, secrets passed as environment variables read from files, and log
 * and pid files. Commands starting with "@" name programs the supervisor resolves
 * on this machine (the proxy from Atrium's own dependencies, Atrium itself), which
 * keeps the rendered file free of machine-specific paths.
 */
import { posix } from "node:path";
import type { Platform } from "../../model/platform.js";
import { daskAuthProcess, gatewayProcess } from "./dask-gateway.js";
import { envsProcess } from "./envs.js";
import { oidcRestartOn, oidcSecretEnv } from "./oidc.js";
import type { LocalPlacement } from "./placement.js";
import type { ProcessSpec } from "./process-spec.js";
import { secretPath } from "./secrets.js";
import { SSH_CONFIG_FILE, sshStartOnly } from "./ssh-config.js";
import { hubUrl } from "./urls.js";

export interface SupervisorSpec {
  project: string;
  pidFile: string;
  log: string;
  processes: ProcessSpec[];
}

export const HUB_CONFIG_FILE = "hub/atrium_hub.json";
export const HUB_CONFIG_PY = "hub/jupyterhub_config.py";

export function renderSupervisor(platform: Platform, placement: LocalPlacement): SupervisorSpec {
  const { paths, network } = placement;
  const log = (name: string) => posix.join(paths.logDir, `${name}.log`);
  const pid = (name: string) => posix.join(paths.runDir, `${name}.pid`);
  const proxyArgs = [
    "--ip",
    network.address,
    "--port",
    String(network.port),
    "--api-ip",
    "127.0.0.1",
    "--api-port",
    String(network.ports.proxy_api),
    "--default-target",
    hubUrl(placement),
    "--error-target",
    `${hubUrl(placement)}/hub/error`,
  ];
  if (network.https.mode !== "none") {
    const tls = tlsFiles(placement);
    proxyArgs.push("--ssl-cert", tls.cert, "--ssl-key", tls.key);
  }
  const processes: ProcessSpec[] = [
    {
      name: "proxy",
      command: ["@configurable-http-proxy", ...proxyArgs],
      env: {},
      secretEnv: { CONFIGPROXY_AUTH_TOKEN: secretPath(placement, "proxy_auth_token") },
      cwd: paths.stateDir,
      log: log("proxy"),
      pidFile: pid("proxy"),
      restartOn: ["component:tls"],
      afterRestart: {
        method: "POST",
        url: `${hubUrl(placement)}/hub/api/proxy`,
        tokenFile: secretPath(placement, "atrium_api_token"),
      },
    },
    {
      name: "hub",
      command: [
        posix.join(paths.hubVenv, "bin", "jupyterhub"),
        "-f",
        posix.join(paths.etcDir, HUB_CONFIG_PY),
      ],
      env: { ATRIUM_HUB_CONFIG: posix.join(paths.etcDir, HUB_CONFIG_FILE) },
      secretEnv: oidcSecretEnv(platform, placement),
      cwd: paths.hubDataDir,
      log: log("hub"),
      pidFile: pid("hub"),
      restartOn: [
        `artifact:${HUB_CONFIG_FILE}`,
        `artifact:${HUB_CONFIG_PY}`,
        "component:hub-env",
        "component:hub-glue",
        ...oidcRestartOn(platform),
      ],
    },
  ];
  if (platform.dask.enabled) processes.push(gatewayProcess(placement), daskAuthProcess(placement));
  processes.push(envsProcess(placement));
  if (platform.ssh.enabled) {
    processes.push({
      name: "ssh",
      command: ["@atrium", "service", "ssh", "--config", posix.join(paths.etcDir, SSH_CONFIG_FILE)],
      env: {},
      secretEnv: {},
      cwd: paths.stateDir,
      log: log("ssh"),
      pidFile: pid("ssh"),
      // A restart would end every open SSH and VS Code session: the gateway re-reads its
      // config on SIGHUP, except where it listens and its host key.
      restartOn: ["component:ssh-host-key", "atrium:code"],
      reloadOn: [`artifact:${SSH_CONFIG_FILE}`],
      restartValues: sshStartOnly(platform, placement),
    });
  }
  return {
    project: platform.project.name,
    pidFile: pid("supervisor"),
    log: log("supervisor"),
    processes,
  };
}

export function tlsFiles(placement: LocalPlacement): { cert: string; key: string } {
  const { https } = placement.network;
  if (https.mode === "manual" && https.cert && https.key) return { cert: https.cert, key: https.key };
  const dir = posix.join(placement.paths.dataDir, "tls");
  return { cert: posix.join(dir, "cert.pem"), key: posix.join(dir, "key.pem") };
}
