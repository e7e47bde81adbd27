/**
 * The Secrets the platform's objects refer to, by name and kind: one Secret holding
 * the Platform's secrets (a key each), the proxy's TLS Secret with HTTPS, and with
 * single sign-on the client secret's. Deploy generates the values in the cluster once
 * (the client secret it takes from the variable the file names); the render never
 * holds one.
 */
import type { SecretSpec } from "../../model/secrets.js";
import type { RenderInput } from "./meta.js";

/** The key of single sign-on's client secret in its Secret. */
export const OIDC_CLIENT_KEY = "client_secret";

export interface KubernetesSecretRef {
  /** The Secret in the namespace. */
  secret: string;
  /** Its key, or null for a TLS Secret (tls.crt and tls.key). */
  key: string | null;
  kind: SecretSpec["kind"] | "tls-self-signed" | "tls-manual" | "from-environment";
  bytes?: number;
  description: string;
}

/** The SSH gateway's: its hub token (it starts users' servers) and its host key. */
export const SSH_SECRETS: SecretSpec[] = [
  { name: "ssh_api_token", kind: "random", bytes: 32, description: "the SSH gateway's hub token" },
  { name: "ssh_host_key", kind: "ssh-host-key", description: "the SSH gateway's host key (ed25519)" },
];

/** The platform's secrets and, with SSH on, the cluster's SSH gateway's. */
export function clusterSecretSpecs(input: RenderInput): SecretSpec[] {
  return [...input.platform.secrets, ...(input.platform.ssh.enabled ? SSH_SECRETS : [])];
}

export function secretRefs(input: RenderInput): KubernetesSecretRef[] {
  const { platform, placement } = input;
  const refs: KubernetesSecretRef[] = clusterSecretSpecs(input).map((s) => {
    const ref: KubernetesSecretRef = {
      secret: placement.names.secrets,
      key: s.name,
      kind: s.kind,
      description: s.description,
    };
    if (s.bytes !== undefined) ref.bytes = s.bytes;
    return ref;
  });
  const https = placement.block.https;
  if (https.mode !== "none") {
    refs.push({
      secret: placement.names.tls,
      key: null,
      kind: https.mode === "manual" ? "tls-manual" : "tls-self-signed",
      description:
        https.mode === "manual"
          ? `the proxy's certificate and key, from ${https.cert} and ${https.key}`
          : "the proxy's self-signed certificate, generated once",
    });
  }
  const auth = platform.auth;
  if (auth.type === "oidc") {
    refs.push({
      secret: placement.names.oidcClient,
      key: OIDC_CLIENT_KEY,
      kind: "from-environment",
      description: `the OIDC client secret, from $${auth.clientSecretEnv} at deploy`,
    });
  }
  return refs;
}
