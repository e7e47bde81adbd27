/**
 * Password hashes kept by the hub (bcrypt, in a root-only JSON file). Setting one runs
 * the hub glue's own CLI with the password on stdin, never on a command line.
 */
import { readFileSync } from "node:fs";
import { posix } from "node:path";
import { passwordHashes } from "../../contracts/passwords.js";
import { run } from "./exec.js";
import type { LocalPlacement } from "./placement.js";
import { secretPath } from "./secrets.js";

export function passwordFile(placement: LocalPlacement): string {
  return secretPath(placement, "passwords.json");
}

export function hasPassword(placement: LocalPlacement, user: string): boolean {
  try {
    const hashes = passwordHashes.parse(JSON.parse(readFileSync(passwordFile(placement), "utf8")));
    return hashes[user] !== undefined;
  } catch {
    return false;
  }
}

export async function setPassword(placement: LocalPlacement, user: string, password: string): Promise<void> {
  await run(
    posix.join(placement.paths.hubVenv, "bin", "python"),
    ["-m", "atrium_hub.passwords", "set", "--file", passwordFile(placement), "--user", user],
    { input: `${password}\n` },
  );
}
