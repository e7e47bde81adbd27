/**
 * Building blocks shared by the contracts: the value rules both sides of a file
 * agree on. Each rule is a regex or a bound, so the generated JSON Schema (and so
 * the hub glue's check) says exactly what zod says.
 */
import { z } from "zod";

/**
 * A string that matches `re`; `expected` says the rule in words, the same words on
 * both sides: zod's message here, and the JSON Schema's `expected` key for the glue.
 */
export function matching(re: RegExp, expected: string) {
  return z.string().regex(re, `expected ${expected}`).meta({ expected });
}

export const absPath = matching(/^\//, "an absolute path");

/** http(s)://host[:port][/path]: the host may be a name, an IPv4 or a bracketed IPv6 address. */
export const httpUrl = matching(
  /^https?:\/\/([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?(\/.*)?$/,
  "an http(s) URL like http://127.0.0.1:8081",
);

export const nonEmpty = z.string().min(1);

/** Linux user and group names as Atrium creates them (Debian's NAME_REGEX without the trailing `$`). */
export const linuxName = matching(
  /^[a-z_][a-z0-9_-]{0,31}$/,
  "a name of a-z, 0-9, _ and -, starting with a letter or _ (at most 32)",
);

export const envName = matching(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable name");

/** A relative cgroup path like atrium/team/users: no empty, `.` or `..` parts. */
export const cgroupParent = matching(
  /^(?!\.\.?(\/|$))[^/]+(\/(?!\.\.?(\/|$))[^/]+)*$/,
  "a relative path like atrium/team/users",
);

/** A URL path: starts with /. */
export const urlPath = matching(/^\//, "a path starting with /");

export const hostPort = matching(/^[^\s:]+:[0-9]{1,5}$/, "host:port");

export const port = z.number().int().min(1).max(65535);

/** A host and port to listen on. */
export const listen = z.strictObject({ host: nonEmpty, port });

/** Bytes or cores where null means "no limit". */
export const optionalAmount = z.number().min(0).nullable();
export const optionalBytes = z.number().int().min(0).nullable();
