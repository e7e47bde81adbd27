/**
 * Render the local target: Platform -> the files the platform runs with. Pure and
 * deterministic; secrets appear only as file references.
 */
import { posix } from "node:path";
import { stableJson } from "../../lib/stable-json.js";
import type { Platform } from "../../model/platform.js";
import type { Artifacts } from "../artifacts.js";
import { HUB_CONFIG_PY_TEXT } from "../hub-settings-parts.js";
import { renderAccounts } from "./accounts-spec.js";
import { ACCOUNTS_FILE, SECRETS_FILE, SUPERVISOR_FILE } from "./artifact-data.js";
import {
  DASK_AUTH_CONFIG,
  DASK_CLIENT_CONFIG,
  firewallScript,
  GATEWAY_CONFIG_FILE,
  GATEWAY_CONFIG_PY,
  GATEWAY_CONFIG_PY_TEXT,
  GATEWAY_FIREWALL_FILE,
  renderDaskAuthConfig,
  renderDaskClientConfig,
  renderGatewayConfig,
} from "./dask-gateway.js";
import { ENVS_CONFIG, renderEnvsConfig } from "./envs.js";
import { renderHubConfig } from "./hub-config.js";
import type { LocalPlacement } from "./placement.js";
import { secretPath, secretSpecs } from "./secrets.js";
import { renderSshConfig, SSH_CONFIG_FILE } from "./ssh-config.js";
import { HUB_CONFIG_FILE, HUB_CONFIG_PY, renderSupervisor } from "./supervisor-spec.js";
import { renderSystemdUnit, unitName } from "./systemd-unit.js";

export function renderLocal(platform: Platform, placement: LocalPlacement): Artifacts {
  const artifacts: Artifacts = new Map();
  artifacts.set(HUB_CONFIG_FILE, stableJson(renderHubConfig(platform, placement)));
  artifacts.set(HUB_CONFIG_PY, HUB_CONFIG_PY_TEXT);
  artifacts.set(SUPERVISOR_FILE, stableJson(renderSupervisor(platform, placement)));
  if (platform.dask.enabled) {
    artifacts.set(GATEWAY_CONFIG_FILE, stableJson(renderGatewayConfig(platform, placement)));
    artifacts.set(GATEWAY_CONFIG_PY, GATEWAY_CONFIG_PY_TEXT);
    artifacts.set(GATEWAY_FIREWALL_FILE, firewallScript(platform, placement));
    artifacts.set(DASK_CLIENT_CONFIG, renderDaskClientConfig(placement));
    artifacts.set(DASK_AUTH_CONFIG, stableJson(renderDaskAuthConfig(placement)));
  }
  artifacts.set(ENVS_CONFIG, stableJson(renderEnvsConfig(platform, placement)));
  artifacts.set(ACCOUNTS_FILE, stableJson(renderAccounts(platform, placement)));
  artifacts.set(
    SECRETS_FILE,
    stableJson(secretSpecs(platform).map((s) => ({ ...s, file: secretPath(placement, s.name) }))),
  );
  artifacts.set(posix.join("systemd", unitName(platform)), renderSystemdUnit(platform, placement));
  if (platform.ssh.enabled) artifacts.set(SSH_CONFIG_FILE, stableJson(renderSshConfig(platform, placement)));
  return new Map([...artifacts.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
}
