/**
 * How Atrium reaches the environment service on a cluster: through the platform's
 * public address (the proxy routes /services/envs to it, as for browsers), with
 * Atrium's own hub token from the platform's Secret, trusting exactly the proxy's
 * certificate when it is the self-signed one Atrium made.
 */
import { AtriumError } from "../../../errors.js";
import type { EnvsEndpoint } from "../../envs-client.js";
import { ENVS_PREFIX } from "../../envs-service-parts.js";
import type { KubernetesPlacement } from "../placement.js";
import type { ClusterConnection } from "./connection.js";
import { publicAddress } from "./runtime.js";
import { readSecret } from "./secret-object.js";

export async function clusterEnvsEndpoint(
  conn: ClusterConnection,
  placement: KubernetesPlacement,
): Promise<EnvsEndpoint> {
  const { namespace, names, block } = placement;
  const url = await publicAddress(conn, placement);
  if (url === undefined) {
    throw new AtriumError(
      "not-found",
      `the platform's public address in ${namespace} on ${conn.context} is not known`,
      "see atrium status: the proxy's Service has no address yet",
    );
  }
  const token = (await readSecret(conn, namespace, names.secrets)).values.atrium_api_token;
  if (token === undefined) {
    throw new AtriumError(
      "not-found",
      `Atrium's hub token is not in ${namespace}/${names.secrets}`,
      "run atrium deploy",
    );
  }
  const endpoint: EnvsEndpoint = { serviceUrl: `${url}${ENVS_PREFIX}`, token: token.trim() };
  if (block.https.mode === "self-signed") {
    const cert = (await readSecret(conn, namespace, names.tls)).values["tls.crt"];
    if (cert !== undefined) endpoint.ca = cert;
  }
  return endpoint;
}
