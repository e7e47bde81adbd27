/**
 * The secrets every platform needs, by name and kind: generated once by deploy,
 * kept by the target where only the platform's own processes read them, and
 * referenced by name everywhere else. Pure.
 */

export interface SecretSpec {
  name: string;
  /**
   * random: hex of `bytes` random bytes; fernet: a url-safe base64 key of 32 bytes;
   * json-object: an empty JSON object to be filled later; ssh-host-key: an ed25519
   * private key in OpenSSH's format.
   */
  kind: "random" | "fernet" | "json-object" | "ssh-host-key";
  bytes?: number;
  description: string;
}

export function deriveSecrets(daskEnabled: boolean): SecretSpec[] {
  const dask: SecretSpec[] = daskEnabled
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
