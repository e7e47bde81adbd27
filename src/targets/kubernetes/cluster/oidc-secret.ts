/**
 * Single sign-on's client secret in the cluster: taken from the variable the file
 * names (../../oidc-client-secret.ts), kept in the Secret `oidc-client` that the
 * hub's container reads it from (an env var by secretKeyRef, the same variable).
 * It is never in a rendered object, the state or a log: the state keeps its short
 * digest, which the hub's pod template carries, so a new secret restarts the hub and
 * the same one changes nothing. The Secret is deleted by the deploy that leaves OIDC.
 */
import type { Platform } from "../../../model/platform.js";
import type { Component } from "../../component.js";
import { checkClientSecret, clientSecretDigest, oidcOf, takeClientSecret } from "../../oidc-client-secret.js";
import type { DeployState } from "../../target.js";
import type { RenderInput } from "../meta.js";
import { instanceLabels, OIDC_CLIENT_SECRET } from "../placement.js";
import { OIDC_CLIENT_KEY } from "../secrets.js";
import type { ClusterConnection } from "./connection.js";
import { readSecret, writeSecret } from "./secret-object.js";

const COMPONENT = `secret/${OIDC_CLIENT_SECRET}`;

/**
 * The digest the hub's pod template carries: of the secret in the environment, else
 * the one the last deploy recorded (plan and status run without the variable), else none.
 */
export function oidcClientDigest(platform: Platform, state: DeployState | undefined): string | null {
  const oidc = oidcOf(platform);
  if (!oidc) return null;
  const secret = takeClientSecret(oidc.clientSecretEnv);
  if (secret !== undefined) return clientSecretDigest(secret);
  const recorded = state?.components[COMPONENT]?.data as { digest?: string } | undefined;
  return recorded?.digest ?? null;
}

export function oidcClientSecretComponent(
  conn: ClusterConnection,
  input: RenderInput,
): Component | undefined {
  const { platform, placement } = input;
  const oidc = oidcOf(platform);
  if (!oidc) return undefined;
  const { namespace, names } = placement;
  const digest = input.oidcClientDigest;
  const ref = { apiVersion: "v1", kind: "Secret", name: names.oidcClient, namespace };
  return {
    name: COMPONENT,
    title: `OIDC client secret from $${oidc.clientSecretEnv} (Secret ${names.oidcClient})`,
    spec: { env: oidc.clientSecretEnv, digest },
    async present() {
      const s = await readSecret(conn, namespace, names.oidcClient);
      return s.values[OIDC_CLIENT_KEY] !== undefined;
    },
    async apply() {
      const secret = takeClientSecret(oidc.clientSecretEnv);
      if (secret === undefined) {
        checkClientSecret(platform); // throws: the variable is not set
        return undefined;
      }
      const data = { ref, digest: clientSecretDigest(secret) };
      const s = await readSecret(conn, namespace, names.oidcClient);
      if (s.values[OIDC_CLIENT_KEY] === secret) return { note: "unchanged", data };
      await writeSecret(
        conn,
        namespace,
        names.oidcClient,
        s,
        { [OIDC_CLIENT_KEY]: secret },
        { labels: instanceLabels(platform.project.name, "hub") },
      );
      return { note: s.resourceVersion === undefined ? "stored" : "replaced", data };
    },
  };
}
