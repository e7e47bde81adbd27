/**
 * The SSH gateway's rendered config (`services/ssh.json`): where it listens, how it
 * checks tokens, which users may log in and the limits their sessions run under.
 * Its shape is src/contracts/ssh-service.ts, which the gateway (src/services/ssh/)
 * parses it with; everything the gateway knows about the platform comes from this file. Machine-specific lookups (the
 * sftp-server binary, uids) are left to the gateway at run time, so the render
 * stays the same on every machine.
 */
import { readFileSync } from "node:fs";
import { posix } from "node:path";
import {
  type SshGatewayStatus,
  type SshLimits,
  type SshServiceConfig,
  sshGatewayStatus,
} from "../../contracts/ssh-service.js";
import {
  FALLBACK_PROFILE,
  mayUseProfile,
  type Platform,
  type PlatformProfile,
  type PlatformUser,
} from "../../model/platform.js";
import { oidcAccountsFile } from "./oidc.js";
import { accountOf, type LocalPlacement } from "./placement.js";
import { secretPath } from "./secrets.js";
import { hubUrl } from "./urls.js";

export const SSH_CONFIG_FILE = "services/ssh.json";
export const SSH_HOST_KEY = "ssh_host_ed25519_key";

/** Where Debian, Ubuntu and Fedora-likes put OpenSSH's sftp-server; the first that exists is used. */
export const SFTP_SERVER_CANDIDATES = [
  "/usr/lib/openssh/sftp-server",
  "/usr/libexec/openssh/sftp-server",
  "/usr/lib/ssh/sftp-server",
  "/usr/libexec/sftp-server",
];

/** The profile a user's server gets when none is chosen: the default one if open to them, else their first. */
export function defaultProfileFor(platform: Platform, user: PlatformUser) {
  const allowed = platform.profiles.filter((p) => mayUseProfile(p, user));
  return allowed.find((p) => p.default) ?? allowed[0] ?? FALLBACK_PROFILE;
}

export function sshStatusPath(placement: LocalPlacement): string {
  return posix.join(placement.paths.runDir, "ssh.json");
}

function limitsOf(profile: PlatformProfile): SshLimits {
  return {
    mem_limit: profile.memLimit ?? null,
    mem_guarantee: profile.memGuarantee ?? null,
    cpu_limit: profile.cpuLimit ?? null,
    cpu_guarantee: profile.cpuGuarantee ?? null,
    pids_limit: profile.pidsLimit,
  };
}

function signOn(platform: Platform, placement: LocalPlacement): SshServiceConfig["sign_on"] {
  if (platform.auth.type !== "oidc") return null;
  const open = platform.profiles.filter((p) => p.groups.length === 0 && p.users.length === 0);
  const profile = open.find((p) => p.default) ?? open[0] ?? FALLBACK_PROFILE;
  return { accounts_file: oidcAccountsFile(placement), profile: profile.name, limits: limitsOf(profile) };
}

/** The part of the config the gateway reads only when it starts: a change restarts it. */
export function sshStartOnly(
  platform: Platform,
  placement: LocalPlacement,
): Pick<SshServiceConfig, "listen" | "host_key_file"> {
  return {
    listen: { address: placement.network.address, port: platform.ssh.port },
    host_key_file: secretPath(placement, SSH_HOST_KEY),
  };
}

export function renderSshConfig(platform: Platform, placement: LocalPlacement): SshServiceConfig {
  const { paths } = placement;
  return {
    version: 1,
    ...sshStartOnly(platform, placement),
    hub_api_url: `${hubUrl(placement)}/hub/api`,
    status_file: sshStatusPath(placement),
    path_prepend: [posix.join(paths.userVenv, "bin")],
    path: "/usr/local/bin:/usr/bin:/bin",
    sftp_server_candidates: SFTP_SERVER_CANDIDATES,
    cgroup: { v1_root: "/sys/fs/cgroup", parent: `${placement.cgroupParent}/users` },
    auth: { free_failures: 3, base_delay_ms: 1000, max_delay_ms: 30_000, login_timeout: 60 },
    users: platform.users.map((u) => {
      const profile = defaultProfileFor(platform, u);
      const { home, shell } = accountOf(placement, u.name);
      return { name: u.name, home, shell, profile: profile.name, limits: limitsOf(profile) };
    }),
    sign_on: signOn(platform, placement),
  };
}

export function readSshStatus(placement: LocalPlacement): SshGatewayStatus | undefined {
  try {
    return sshGatewayStatus.parse(JSON.parse(readFileSync(sshStatusPath(placement), "utf8")));
  } catch {
    return undefined;
  }
}

/** The gateway as `atrium status` shows it: null when SSH is off. */
export interface SshReport {
  port: number;
  /** True when the gateway's own status says it listens and its process is alive. */
  listening: boolean;
  sessions: SshGatewayStatus["sessions"];
  limits: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function sshReport(platform: Platform, placement: LocalPlacement): SshReport | null {
  if (!platform.ssh.enabled) return null;
  const st = readSshStatus(placement);
  const up = st !== undefined && st.listening !== null && alive(st.pid);
  return {
    port: platform.ssh.port,
    listening: up,
    sessions: up ? st.sessions : [],
    limits: st?.limits ?? "",
  };
}
