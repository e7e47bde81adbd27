/**
 * The SSH gateway's config file (`services/ssh.json`, rendered by the local target)
 * and the status file the gateway writes back: the shapes both sides share.
 */
export interface SshLimits {
  /** Bytes, or null for no limit. */
  mem_limit: number | null;
  mem_guarantee: number | null;
  /** Cores, or null for no limit. */
  cpu_limit: number | null;
  cpu_guarantee: number | null;
  /** Most tasks (processes and threads) in one session's cgroup. */
  pids_limit: number;
}

export interface SshUser {
  name: string;
  home: string;
  shell: string;
  /** The user's default profile, whose limits their sessions get. */
  profile: string;
  limits: SshLimits;
}

export interface SshServiceConfig {
  version: 1;
  listen: { address: string; port: number };
  hub_api_url: string;
  host_key_file: string;
  status_file: string;
  /** Folders put first on PATH in every session (the user env's bin). */
  path_prepend: string[];
  /** The rest of PATH. */
  path: string;
  sftp_server_candidates: string[];
  /** v1 cgroup root and the parent under which each user's `<name>.ssh` group is made. */
  cgroup: { v1_root: string; parent: string };
  auth: {
    /** Failed attempts from one address before answers are delayed. */
    free_failures: number;
    /** First delay; doubles with each further failure up to max_delay_ms. */
    base_delay_ms: number;
    max_delay_ms: number;
    /** Seconds a client has to authenticate before it is disconnected. */
    login_timeout: number;
  };
  users: SshUser[];
  /**
   * With single sign-on, people who arrived through the provider (and got an account
   * at their first login) are in the hub's record of those accounts, not in `users`;
   * they log in with the open default profile's limits.
   */
  sign_on: { accounts_file: string; profile: string; limits: SshLimits } | null;
}

/** What the gateway writes to its status file while it runs. */
export interface SshGatewayStatus {
  pid: number;
  listening: { address: string; port: number } | null;
  updatedAt: string;
  sessions: Array<{ user: string; from: string; kind: string; since: string }>;
  /** Why sessions run without limits, when they do. */
  limits: string;
}
