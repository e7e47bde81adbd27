/**
 * The parts of the hub settings (the hub-settings contract) that every target
 * renders alike from the Platform: the profiles, login, idle culling and the video chat
 * rooms (each target saying where its files are), and the
 * hub's jupyterhub_config.py, which only hands the settings file to the glue. Pure.
 */
import { RESERVED_NAMES } from "../config/rules.js";
import type { HubProfile, HubSettings } from "../contracts/hub-settings.js";
import type { Platform, PlatformProfile } from "../model/platform.js";
import { videoChatRooms } from "../model/videochat.js";

export function hubProfileOf(p: PlatformProfile): HubProfile {
  return {
    name: p.name,
    display_name: p.displayName,
    description: p.description,
    cpu_limit: p.cpuLimit ?? null,
    cpu_guarantee: p.cpuGuarantee ?? null,
    mem_limit: p.memLimit ?? null,
    mem_guarantee: p.memGuarantee ?? null,
    pids_limit: p.pidsLimit,
    gpus: p.gpus,
    default: p.default,
    groups: p.groups,
    users: p.users,
  };
}

/**
 * The videochat section: the Jitsi server and every room the hub may offer, already
 * named. The hub glue picks each user's rooms from its own group membership
 * (python/atrium_hub/videochat.py); the JupyterLab extension (extensions/videochat) shows them.
 */
export function renderVideoChat(platform: Platform): HubSettings["videochat"] {
  const { groupRooms, rooms } = videoChatRooms(platform);
  return {
    enabled: platform.videochat.enabled,
    jitsi_domain: platform.videochat.jitsiDomain,
    project: platform.project.name,
    group_rooms: groupRooms.map((r) => ({ group: r.group, room_name: r.roomName })),
    rooms: rooms.map((r) => ({ name: r.name, room_name: r.roomName })),
  };
}

/** jupyterhub_config.py: the glue applies the settings file named by ATRIUM_HUB_CONFIG. */
export const HUB_CONFIG_PY_TEXT = `# The hub's settings come from atrium_hub.json (path in ATRIUM_HUB_CONFIG),
# rendered by \`atrium render\`; the code that applies them is the atrium_hub package.
from atrium_hub.hubconfig import apply
from atrium_hub.settings import load_settings_from_env

apply(get_config(), load_settings_from_env())  # noqa: F821 - get_config is provided by JupyterHub
`;

/** Where a target keeps what login needs: the password file, and for OIDC the accounts it makes. */
export interface AuthPlaces {
  passwordFile: string;
  /** Where accounts made at first login get their home. */
  homeDir: string;
  /** The parent of the group folders. */
  sharedDir: string;
  /** The hub's record of the accounts made at login (oidc-accounts contract). */
  accountsFile: string;
  /** Whether the hub makes Linux accounts at login (else only the file's users log in). */
  linuxAccounts: boolean;
}

export function renderAuthSettings(platform: Platform, places: AuthPlaces): HubSettings["auth"] {
  const auth = platform.auth;
  if (auth.type === "password") return { type: "password", password_file: places.passwordFile };
  return {
    type: "oidc",
    preset: auth.preset,
    issuer: auth.issuer,
    client_id: auth.clientId,
    client_secret_env: auth.clientSecretEnv,
    // null: the preset's default, or OIDC's (python/atrium_hub/oidc.py fills them in)
    username_claim: auth.usernameClaim,
    groups_claim: auth.groupsClaim,
    scopes: auth.scopes,
    allowed_groups: auth.allowedGroups,
    admin_groups: auth.adminGroups,
    group_map: auth.groupMap,
    linux_accounts: places.linuxAccounts,
    // accounts the hub makes when someone allowed by a group logs in for the first time
    home_dir: places.homeDir,
    default_shell: "/bin/bash",
    shared_dir: places.sharedDir,
    accounts_file: places.accountsFile,
    reserved_names: [...RESERVED_NAMES].sort(),
  };
}

/** The idle culler's settings; `python` runs it (the hub env's). */
export function renderIdleCuller(platform: Platform, python: string): HubSettings["idle_culler"] {
  return {
    enabled: platform.idleCuller.enabled,
    timeout: platform.idleCuller.timeout,
    every: platform.idleCuller.every,
    max_age: platform.idleCuller.maxAge,
    python,
  };
}
