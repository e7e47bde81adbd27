/**
 * The hub settings (the hub-settings contract) of the kubernetes target: the same
 * users, groups, profiles, auth, culling and video chat rooms as on the local
 * target, with the paths inside the hub's pod, and KubeSpawner as the spawner.
 * Pure; secrets only as the paths their Secret is mounted at.
 */

import { posix } from "node:path";
import type { HubSettings } from "../../contracts/hub-settings.js";
import type { Platform } from "../../model/platform.js";
import {
  hubProfileOf,
  renderAuthSettings,
  renderIdleCuller,
  renderVideoChat,
} from "../hub-settings-parts.js";
import { daskGatewayHubService } from "./dask-gateway.js";
import { envsHubService } from "./envs.js";
import { renderKubeSpawner } from "./kube-spawner.js";
import { groupOf, type KubernetesPlacement } from "./placement.js";
import {
  HOME_ROOT,
  HUB_DATA_DIR,
  HUB_ENV,
  HUB_PORT,
  homeIn,
  PROXY_API_PORT,
  SHARED_ROOT,
  secretFile,
  sharedIn,
} from "./pod-paths.js";
import { publicUrl } from "./public-url.js";
import { sshHubService } from "./ssh-gateway.js";

export function renderKubernetesHubSettings(platform: Platform, placement: KubernetesPlacement): HubSettings {
  const { names } = placement;
  return {
    version: 1,
    project: platform.project,
    hub: {
      bind_url: `http://0.0.0.0:${HUB_PORT}/`,
      // the pod's name does not resolve; its Service does
      connect_url: `http://${names.hub}:${HUB_PORT}`,
      // the address browsers use, where the render knows it (an ingress's host)
      public_url: publicUrl(placement),
      base_url: "/",
      data_dir: HUB_DATA_DIR,
      db_url: `sqlite:///${posix.join(HUB_DATA_DIR, "jupyterhub.sqlite")}`,
      cookie_secret_file: secretFile("cookie_secret"),
    },
    proxy: {
      api_url: `http://${names.proxyApi}:${PROXY_API_PORT}`,
      auth_token_file: secretFile("proxy_auth_token"),
    },
    auth: renderAuthSettings(platform, {
      passwordFile: secretFile("passwords.json"),
      homeDir: HOME_ROOT,
      sharedDir: SHARED_ROOT,
      accountsFile: posix.join(HUB_DATA_DIR, "oidc-accounts.json"),
      // a user's pods run with the uid and groups deploy gave them
      linuxAccounts: false,
    }),
    users: platform.users.map((u) => ({
      name: u.name,
      admin: u.admin,
      groups: u.groups,
      home: homeIn(u.name),
      shell: "/bin/bash",
    })),
    groups: platform.groups.map((g) => ({
      name: g.name,
      description: g.description,
      shared_folder: groupOf(placement, g.name).folder === null ? null : sharedIn(g.name),
    })),
    profiles: platform.profiles.map(hubProfileOf),
    spawner: null,
    kube_spawner: renderKubeSpawner(platform, placement),
    videochat: renderVideoChat(platform),
    idle_culler: renderIdleCuller(platform, posix.join(HUB_ENV, "bin", "python")),
    services: [
      { name: "atrium", admin: true, api_token_file: secretFile("atrium_api_token") },
      envsHubService(placement),
      ...(platform.dask.enabled ? [daskGatewayHubService()] : []),
      ...(platform.ssh.enabled ? [sshHubService()] : []),
    ],
  };
}
