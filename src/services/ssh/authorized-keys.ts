/**
 * Public keys a user registered in ~/.ssh/authorized_keys, read safely by a root
 * process: the home folder, ~/.ssh and the file must belong to the user and not be
 * writable by group or others (so nobody else can plant a key), and the file is
 * opened without following a link and checked on the open descriptor (so a link
 * swapped in between cannot make root read another file). Lines with options
 * (`command=`, `from=`, ...) are skipped: the gateway does not enforce them, and a
 * restricted key must not become an unrestricted one.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync } from "node:fs";
import { posix } from "node:path";

const MAX_BYTES = 1024 * 1024;

export interface OwnerMode {
  uid: number;
  mode: number;
}

/** Why a path may not be trusted for `uid`'s keys, or undefined when it may. */
export function unsafeReason(what: string, st: OwnerMode, uid: number): string | undefined {
  if (st.uid !== uid) return `${what} is owned by uid ${st.uid}, not ${uid}`;
  if ((st.mode & 0o022) !== 0) {
    return `${what} is writable by ${st.mode & 0o020 ? "its group" : "others"} (mode ${(st.mode & 0o7777).toString(8)})`;
  }
  return undefined;
}

export interface AuthorizedKeys {
  /** "type base64" entries, in file order. */
  keys: Array<{ type: string; data: string; line: number }>;
  /** Why the file was not read, or lines were skipped. */
  problems: string[];
}

/** Parse authorized_keys text: plain `type base64 [comment]` lines; lines with options are skipped. */
export function parseAuthorizedKeys(text: string): AuthorizedKeys {
  const keys: AuthorizedKeys["keys"] = [];
  const problems: string[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const [type, data] = line.split(/\s+/);
    if (!type || !data) {
      problems.push(`line ${i + 1}: not a key`);
      return;
    }
    if (!/^(ssh-|ecdsa-sha2-|sk-)/.test(type)) {
      problems.push(`line ${i + 1}: options are not supported; the key is ignored`);
      return;
    }
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(data)) {
      problems.push(`line ${i + 1}: the key is not base64`);
      return;
    }
    keys.push({ type, data, line: i + 1 });
  });
  return { keys, problems };
}

/** Read `<home>/.ssh/authorized_keys` for `uid`, refusing anything another account could have written. */
export function readAuthorizedKeys(home: string, uid: number): AuthorizedKeys {
  const sshDir = posix.join(home, ".ssh");
  const file = posix.join(sshDir, "authorized_keys");
  for (const [what, path] of [
    ["home folder", home],
    ["~/.ssh", sshDir],
  ] as const) {
    let st: ReturnType<typeof lstatSync>;
    try {
      st = lstatSync(path);
    } catch {
      return { keys: [], problems: [`no ${what}`] };
    }
    if (!st.isDirectory()) return { keys: [], problems: [`${what} is not a folder`] };
    const reason = unsafeReason(what, st, uid);
    if (reason) return { keys: [], problems: [reason] };
  }
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { keys: [], problems: [code === "ENOENT" ? "no authorized_keys" : `authorized_keys: ${code}`] };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { keys: [], problems: ["authorized_keys is not a regular file"] };
    const reason = unsafeReason("authorized_keys", st, uid);
    if (reason) return { keys: [], problems: [reason] };
    if (st.size > MAX_BYTES) return { keys: [], problems: ["authorized_keys is larger than 1 MiB"] };
    const buf = Buffer.alloc(st.size);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, got);
      if (n === 0) break;
      got += n;
    }
    return parseAuthorizedKeys(buf.subarray(0, got).toString("utf8"));
  } finally {
    closeSync(fd);
  }
}
