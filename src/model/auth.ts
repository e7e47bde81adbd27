/**
 * How users log in, as the Platform carries it: the config's auth block in the
 * model's own words (camel case, absent optional keys as null), so no target reads
 * the raw config object. Pure.
 */
import type { Config, OIDC_PRESETS } from "../config/schema.js";

export type OidcPreset = (typeof OIDC_PRESETS)[number];

export interface OidcLogin {
  type: "oidc";
  /** A well-known provider whose URLs and claims fill in what the file leaves out. */
  preset: OidcPreset | null;
  issuer: string | null;
  clientId: string;
  /** Name of the environment variable holding the client secret (never the secret). */
  clientSecretEnv: string;
  /** null: the preset's default, or OIDC's. */
  usernameClaim: string | null;
  groupsClaim: string | null;
  scopes: string[] | null;
  allowedGroups: string[];
  adminGroups: string[];
  /** Provider group -> group of the file. */
  groupMap: Record<string, string>;
}

export type PlatformAuth = { type: "password" } | OidcLogin;

export function deriveAuth(auth: Config["auth"]): PlatformAuth {
  if (auth.type === "password") return { type: "password" };
  return {
    type: "oidc",
    preset: auth.preset ?? null,
    issuer: auth.issuer ?? null,
    clientId: auth.client_id,
    clientSecretEnv: auth.client_secret_env,
    usernameClaim: auth.username_claim ?? null,
    groupsClaim: auth.groups_claim ?? null,
    scopes: auth.scopes === undefined ? null : [...auth.scopes],
    allowedGroups: [...auth.allowed_groups],
    adminGroups: [...auth.admin_groups],
    groupMap: { ...auth.group_map },
  };
}
