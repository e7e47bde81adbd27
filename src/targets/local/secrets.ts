/**
 * The secrets the local platform needs: generated once by deploy into root-only
 * (0600) files under <data_dir>/secrets, referenced by name everywhere else.
 */
import { posix } from "node:path";
import type { Platform } from "../../model/platform.js";
import type { LocalPlacement } from "./placement.js";

export interface SecretSpec {
  name: string;
  /**
   * random: hex of `bytes` random bytes; fernet: a url-safe base64 key of 32 bytes;
   * json-object: an empty JSON object to be filled later.
   */
  kind: "random" | "fernet" | "json-object";
  bytes?: number;
  description: string;
}

export function secretSpecs(platform: Platform): SecretSpec[] {
  const dask: SecretSpec[] = platform.dask.enabled
    ? [
        {
          name: "dask_gateway_api_token",
          kind: "random",
          bytes: 32,
          description: "dask-gateway's hub token",
        },
        { name: "dask_gateway_db_key", kind: "fernet", description: "encrypts dask-gateway's database" },
      ]
    : [];
  return [
    ...dask,
    { name: "cookie_secret", kind: "random", bytes: 32, description: "signs the hub's login cookies" },
    { name: "proxy_auth_token", kind: "random", bytes: 32, description: "the hub's token for the proxy API" },
    { name: "passwords.json", kind: "json-object", description: "bcrypt hashes of user passwords" },
    { name: "envs_api_token", kind: "random", bytes: 32, description: "the environment service's hub token" },
    {
      name: "atrium_api_token",
      kind: "random",
      bytes: 32,
      description: "Atrium's own token for the hub API",
    },
  ];
}

export function secretPath(placement: LocalPlacement, name: string): string {
  return posix.join(placement.paths.secretsDir, name);
}
