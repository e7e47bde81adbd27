/**
 * The JSON the hub glue (python/atrium_hub) reads at start: everything the hub
 * needs to know, as data. The Python side is static; this is its only input.
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
import { gatewayHubService } from "./dask-gateway.js";
import { envsHubService, kernelsDir } from "./envs.js";
import { oidcAccountsFile } from "./oidc.js";
import { accountOf, groupOf, type LocalPlacement } from "./placement.js";
import { secretPath } from "./secrets.js";
import { hubUrl, publicUrl } from "./urls.js";

export function renderHubConfig(platform: Platform, placement: LocalPlacement): HubSettings {
  const { paths, network } = placement;
  return {
    version: 1,
    project: platform.project,
    hub: {
      bind_url: `${hubUrl(placement)}/`,
      public_url: publicUrl(placement),
      base_url: "/",
      data_dir: paths.hubDataDir,
      db_url: `sqlite:///${posix.join(paths.hubDataDir, "jupyterhub.sqlite")}`,
      cookie_secret_file: secretPath(placement, "cookie_secret"),
    },
    proxy: {
      api_url: `http://127.0.0.1:${network.ports.proxy_api}`,
      auth_token_file: secretPath(placement, "proxy_auth_token"),
    },
    auth: renderAuthSettings(platform, {
      passwordFile: secretPath(placement, "passwords.json"),
      homeDir: paths.homeDir,
      sharedDir: paths.sharedDir,
      accountsFile: oidcAccountsFile(placement),
      linuxAccounts: true,
    }),
    users: platform.users.map((u) => ({
      name: u.name,
      admin: u.admin,
      groups: u.groups,
      home: accountOf(placement, u.name).home,
      shell: accountOf(placement, u.name).shell,
    })),
    groups: platform.groups.map((g) => ({
      name: g.name,
      description: g.description,
      shared_folder: groupOf(placement, g.name).sharedFolder,
    })),
    profiles: platform.profiles.map(hubProfileOf),
    spawner: {
      cmd: [posix.join(paths.userVenv, "bin", "jupyterhub-singleuser")],
      default_url: "/lab",
      path_prepend: [posix.join(paths.userVenv, "bin")],
      environment: {},
      cgroup: { mode: "auto", v1_root: "/sys/fs/cgroup", parent: `${placement.cgroupParent}/users` },
      // servers listen on Unix sockets here, never on a TCP port another user could claim
      sockets_dir: serverSocketsDir(placement),
      // each user's managed-environment kernels: <kernels_dir>/<user> goes on JUPYTER_PATH
      kernels_dir: kernelsDir(placement),
    },
    videochat: renderVideoChat(platform),
    idle_culler: renderIdleCuller(platform, posix.join(paths.hubVenv, "bin", "python")),
    services: [
      // Atrium's own access to the hub API (status, destroy, tests); the token file is root-only.
      { name: "atrium", admin: true, api_token_file: secretPath(placement, "atrium_api_token") },
      ...(platform.dask.enabled ? [gatewayHubService(placement)] : []),
      envsHubService(placement),
    ],
  };
}

/**
 * Root-owned folder of the user servers' Unix sockets (python/atrium_hub/server_socket.py);
 * below the data folder, which users may traverse (the state folder is root-only).
 */
export function serverSocketsDir(placement: LocalPlacement): string {
  return posix.join(placement.paths.dataDir, "servers");
}
