/**
 * Password hashes kept by the hub (bcrypt, in a root-only JSON file). Setting one runs
 * the hub glue's own CLI with the password on stdin, never on a command line.
 */
import { randomBytes } from "node:crypto";
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

/** A password that is easy to type and hard to guess: 4 groups of 5 from an unambiguous alphabet. */
export function generatePassword(): string {
  const alphabet = "abcdefghjkmnpqrstuvwxyz23456789";
  const bytes = randomBytes(20);
  let out = "";
  for (let i = 0; i < 20; i++) {
    if (i > 0 && i % 5 === 0) out += "-";
    out += alphabet[(bytes[i] ?? 0) % alphabet.length];
  }
  return out;
}
