/**
 * The gateway's log: one line per event on stdout, which the supervisor writes to
 * <log_dir>/ssh.log. Passwords, tokens and key material are never passed here;
 * callers log names, addresses and reasons only.
 */
export function log(line: string): void {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}
