/**
 * The gateway's rendered config, kept current while it runs. A deploy that adds or
 * removes users rewrites the file and sends SIGHUP (the supervisor's reload, see
 * `reloadOn` in supervisor-spec.ts) instead of restarting the gateway, which would
 * end every open session. What must stay true:
 * - `current()` notices a rewritten file by itself (a cheap stat per call), so a login
 *   right after a deploy already sees the new users, whether or not SIGHUP came first;
 * - a file that cannot be read or is invalid leaves the last good config in use;
 * - where it listens and its host key are read once: a change there restarts the
 *   gateway (the supervisor's fingerprint covers them).
 */
import { statSync } from "node:fs";
import { readContractFile } from "../../contracts/read.js";
import { type SshServiceConfig, sshServiceConfig } from "../../contracts/ssh-service.js";

export function readConfig(file: string): SshServiceConfig {
  return readContractFile(sshServiceConfig, file);
}

export interface ConfigSource {
  /** The config as the file now says, or the last good one. */
  current(): SshServiceConfig;
  /** Re-read the file now (SIGHUP). */
  reload(): void;
}

/** Identity of the file's content as far as a stat tells: a rewrite (rename) changes it. */
function stamp(file: string): string {
  try {
    const st = statSync(file);
    return `${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch {
    return "";
  }
}

export function configSource(file: string, log: (line: string) => void): ConfigSource {
  let seen = stamp(file);
  let config = readConfig(file);
  const reread = (why: string) => {
    try {
      const next = readConfig(file);
      config = next;
      log(`${why}: ${file} re-read (${next.users.length} users)`);
    } catch (err) {
      log(`${why}: keeping the last good config: ${(err as Error).message}`);
    }
  };
  return {
    current() {
      const now = stamp(file);
      if (now !== seen) {
        seen = now;
        reread("config changed");
      }
      return config;
    },
    reload() {
      seen = stamp(file);
      reread("SIGHUP");
    },
  };
}
