/** A new value for one of the platform's secrets (model/secrets.ts says which kinds there are). */
import { randomBytes } from "node:crypto";
import { generateEd25519 } from "../lib/openssh-key.js";
import type { SecretSpec } from "../model/secrets.js";

export function newSecretValue(spec: SecretSpec): string {
  switch (spec.kind) {
    case "random":
      return randomBytes(spec.bytes ?? 32).toString("hex");
    case "fernet":
      return randomBytes(32).toString("base64url").concat("=");
    case "json-object":
      return "{}";
    case "ssh-host-key":
      return generateEd25519("atrium-ssh-gateway").private;
  }
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
