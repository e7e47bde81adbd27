/**
 * Starting a program as the user. Node's own uid/gid switch drops the
 * supplementary groups (and so the user's shared folders), so the switch is made
 * by util-linux's `setpriv --init-groups`, which sets uid, gid and every group of
 * the account. The process joins its cgroups first, while still root (a user
 * cannot move itself into a group), in a tiny `sh` that then execs setpriv: the
 * pid never changes, so the user's program and everything it starts are inside
 * the limits from the first instruction. Where it can, the session also gets a
 * private /dev/shm (see PrivateShm).
 *
 * Must stay true: the environment is built from scratch (nothing of the gateway's
 * leaks into sessions), and no argument carries a secret.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import type { Account } from "./accounts.js";

/** Writes its pid into each file given before "--", then execs the rest. */
const JOIN_AND_EXEC =
  'while [ "$1" != "--" ]; do echo $$ > "$1" || echo "atrium: could not join $1" >&2; shift; done; shift; exec "$@"';

export function findSetpriv(): string {
  for (const p of ["/usr/bin/setpriv", "/bin/setpriv"]) if (existsSync(p)) return p;
  throw new Error("setpriv (util-linux) is missing");
}

export interface SessionEnvInput {
  account: Account;
  pathPrepend: string[];
  path: string;
  client: { address: string; port: number };
  server: { address: string; port: number };
  term?: string;
  /** Variables the client asked for and the gateway accepted (LANG, LC_*). */
  extra: Record<string, string>;
}

export function sessionEnv(input: SessionEnvInput): Record<string, string> {
  const { account, client, server } = input;
  const env: Record<string, string> = {
    LANG: "C.UTF-8",
    ...input.extra,
    HOME: account.home,
    USER: account.name,
    LOGNAME: account.name,
    SHELL: account.shell,
    PATH: [...input.pathPrepend, input.path].join(":"),
    SSH_CLIENT: `${client.address} ${client.port} ${server.port}`,
    SSH_CONNECTION: `${client.address} ${client.port} ${server.address} ${server.port}`,
  };
  if (input.term) env.TERM = input.term;
  return env;
}

/** Client-sent variables a session accepts, as OpenSSH's default AcceptEnv does. */
export function acceptedEnvName(name: string): boolean {
  return name === "LANG" || /^LC_[A-Z_]+$/.test(name);
}

/**
 * A private /dev/shm for a session: util-linux's `unshare` gives it its own mount
 * namespace (mounts made slaves, so nothing flows back to the machine), in which
 * `sh` mounts a fresh tmpfs of `size` bytes (0: the kernel's default) on /dev/shm
 * before joining the cgroups. Other users never see it, it counts in the session's
 * memory, and it is gone with the session's last process.
 */
export interface PrivateShm {
  unshare: string;
  size: number;
}

/** Takes the tmpfs size first, mounts it (a failure is reported, the session goes on), then joins and execs. */
const MOUNT_SHM =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: ${size:+...} is the shell's, not a template
  'size=$1; shift; mount -t tmpfs -o "nosuid,nodev,mode=1777${size:+,size=$size}" atrium-shm /dev/shm || echo "atrium: no private /dev/shm" >&2; ';

/** Half the memory limit, as for servers (python/atrium_hub/private_shm.py); 0 without a limit. */
export function shmSize(memLimit: number | null): number {
  return memLimit ? Math.floor(memLimit / 2) : 0;
}

/** unshare's arguments for a `sh -c` in a mount namespace of its own (mounts made slaves first). */
const OWN_MOUNTS = ["--mount", "--propagation", "slave", "--", "/bin/sh", "-c"];

/** util-linux's unshare, if it can make a mount namespace with a tmpfs here (checked once, at start). */
export function findPrivateShm(): string | undefined {
  const unshare = ["/usr/bin/unshare", "/bin/unshare"].find((p) => existsSync(p));
  if (!unshare) return undefined;
  const probe = spawnSync(unshare, [...OWN_MOUNTS, "mount -t tmpfs -o size=1M atrium-shm /dev/shm"], {
    stdio: "ignore",
    timeout: 10_000,
  });
  return probe.status === 0 ? unshare : undefined;
}

/** The command and arguments that run `argv` as `account` inside the cgroups of `procsFiles`. */
export function userCommand(
  setpriv: string,
  account: Pick<Account, "uid" | "gid">,
  argv: string[],
  procsFiles: string[],
  shm?: PrivateShm,
): { command: string; args: string[] } {
  const switchUser = [`--reuid=${account.uid}`, `--regid=${account.gid}`, "--init-groups", "--", ...argv];
  const joinAndSwitch = [...procsFiles, "--", setpriv, ...switchUser];
  if (shm) {
    const size = shm.size > 0 ? String(shm.size) : "";
    return {
      command: shm.unshare,
      args: [...OWN_MOUNTS, MOUNT_SHM + JOIN_AND_EXEC, "atrium-session", size, ...joinAndSwitch],
    };
  }
  if (procsFiles.length === 0) return { command: setpriv, args: switchUser };
  return { command: "/bin/sh", args: ["-c", JOIN_AND_EXEC, "atrium-session", ...joinAndSwitch] };
}
