/** The Linux account behind an SSH user name (uid and gid from the system's user database). */
import { execFile } from "node:child_process";

export interface Account {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

/** Parse one `getent passwd` line. */
export function parsePasswdLine(line: string): Account | undefined {
  const f = line.trim().split(":");
  if (f.length < 7) return undefined;
  const uid = Number(f[2]);
  const gid = Number(f[3]);
  if (!f[0] || !Number.isInteger(uid) || !Number.isInteger(gid)) return undefined;
  return { name: f[0], uid, gid, home: f[5] ?? "", shell: f[6] ?? "" };
}

export function lookupAccount(name: string): Promise<Account | undefined> {
  return new Promise((resolve) => {
    execFile("getent", ["passwd", name], { timeout: 10_000 }, (err, stdout) => {
      if (err) return resolve(undefined);
      const a = parsePasswdLine(stdout);
      resolve(a && a.name === name ? a : undefined);
    });
  });
}
