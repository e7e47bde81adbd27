/** Reading and writing one Secret of the namespace: its data decoded, writes guarded by resourceVersion. */
import type { V1Secret } from "@kubernetes/client-node";
import { type ClusterConnection, clusterError, FIELD_MANAGER, isNotFound } from "./connection.js";

export interface SecretData {
  /** undefined: the Secret is not there. */
  resourceVersion: string | undefined;
  values: Record<string, string>;
}

const ref = (namespace: string, name: string) => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name, namespace },
});

export async function readSecret(
  conn: ClusterConnection,
  namespace: string,
  name: string,
): Promise<SecretData> {
  try {
    const s = await conn.objects.read<V1Secret>(ref(namespace, name));
    const values: Record<string, string> = {};
    for (const [k, v] of Object.entries(s.data ?? {})) values[k] = Buffer.from(v, "base64").toString("utf8");
    return { resourceVersion: s.metadata?.resourceVersion, values };
  } catch (err) {
    if (isNotFound(err)) return { resourceVersion: undefined, values: {} };
    throw clusterError(conn, `reading secret ${namespace}/${name}`, err);
  }
}

/**
 * Writes the Secret whole: a create when `previous` saw none, else a replace that the
 * API server refuses (409) if someone wrote it since `previous` was read.
 */
export async function writeSecret(
  conn: ClusterConnection,
  namespace: string,
  name: string,
  previous: SecretData,
  values: Record<string, string>,
  options: { type?: string; labels?: Record<string, string> } = {},
): Promise<void> {
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) data[k] = Buffer.from(v, "utf8").toString("base64");
  const body: V1Secret = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name,
      namespace,
      ...(options.labels ? { labels: options.labels } : {}),
      ...(previous.resourceVersion ? { resourceVersion: previous.resourceVersion } : {}),
    },
    type: options.type ?? "Opaque",
    data,
  };
  try {
    if (previous.resourceVersion === undefined) {
      await conn.objects.create(body, undefined, undefined, FIELD_MANAGER);
    } else {
      await conn.objects.replace(body, undefined, undefined, FIELD_MANAGER);
    }
  } catch (err) {
    throw clusterError(conn, `writing secret ${namespace}/${name}`, err);
  }
}
