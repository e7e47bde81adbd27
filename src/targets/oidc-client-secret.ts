/**
 * The OIDC client secret as every target receives it: from the environment
 * variable the file names (auth.client_secret_env), read once and then removed from
 * Atrium's own environment so no program deploy starts inherits it. Deploy refuses,
 * before changing anything, when the variable is not set. What a target keeps of it
 * besides the secret itself is a short salted digest, so a changed secret restarts
 * the hub. Also `atrium status`'s line on how people log in.
 */
import { createHash } from "node:crypto";
import { AtriumError } from "../errors.js";
import type { OidcLogin } from "../model/auth.js";
import type { Platform } from "../model/platform.js";

export function oidcOf(platform: Platform): OidcLogin | undefined {
  return platform.auth.type === "oidc" ? platform.auth : undefined;
}

const taken = new WeakMap<NodeJS.ProcessEnv, Map<string, string | undefined>>();

/**
 * The client secret from the environment, read once per variable; the variable is
 * removed from that environment so the programs deploy runs don't get it.
 */
export function takeClientSecret(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const seen = taken.get(env) ?? new Map<string, string | undefined>();
  taken.set(env, seen);
  if (!seen.has(name)) {
    const value = env[name]?.trim();
    seen.set(name, value === undefined || value === "" ? undefined : value);
    delete env[name];
  }
  return seen.get(name);
}

/** Deploy's check before it changes anything: the variable must be set. */
export function checkClientSecret(platform: Platform, env: NodeJS.ProcessEnv = process.env): void {
  const oidc = oidcOf(platform);
  if (!oidc || takeClientSecret(oidc.clientSecretEnv, env) !== undefined) return;
  const name = oidc.clientSecretEnv;
  throw new AtriumError(
    "prerequisite",
    `the OIDC client secret is missing: $${name} (auth.client_secret_env) is not set; nothing was changed`,
    `export ${name}=<the client secret from your provider> and deploy again` +
      ` (with sudo: sudo --preserve-env=${name} atrium deploy ...)`,
  );
}

/** A short salted digest of the secret: tells a changed secret, never the secret. */
export function clientSecretDigest(secret: string): string {
  return createHash("sha256").update(`atrium oidc client secret\n${secret}`).digest("hex").slice(0, 16);
}

/** `atrium status`: how people log in. */
export function describeAuth(platform: Platform): string {
  const oidc = oidcOf(platform);
  if (!oidc) return "password (hashes kept by the hub)";
  const names: Record<string, string> = {
    github: "GitHub",
    google: "Google",
    keycloak: "Keycloak",
    auth0: "Auth0",
  };
  const at =
    oidc.issuer ??
    (oidc.preset === "google" ? "https://accounts.google.com" : oidc.preset === "github" ? "github.com" : "");
  const provider = oidc.preset ? `${names[oidc.preset] ?? oidc.preset} ${at}`.trim() : at;
  const who =
    oidc.allowedGroups.length > 0
      ? `users in the file and groups ${oidc.allowedGroups.join(", ")}`
      : "users in the file";
  return `oidc via ${provider}, client ${oidc.clientId}; may log in: ${who}`;
}
