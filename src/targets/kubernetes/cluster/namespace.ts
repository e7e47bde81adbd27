/** The platform's namespace, made before anything is kept in it (the deploy lock and state live there). */
import type { V1Namespace } from "@kubernetes/client-node";
import { type ClusterConnection, clusterError, FIELD_MANAGER, isNotFound } from "./connection.js";

export async function namespaceExists(conn: ClusterConnection, namespace: string): Promise<boolean> {
  try {
    await conn.objects.read<V1Namespace>({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: namespace },
    });
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw clusterError(conn, `reading namespace ${namespace}`, err);
  }
}

/** Makes the namespace when it is missing (a read only, when it exists). */
export async function ensureNamespace(
  conn: ClusterConnection,
  namespace: string,
  labels: Record<string, string>,
): Promise<void> {
  if (await namespaceExists(conn, namespace)) return;
  try {
    await conn.objects.create<V1Namespace>(
      { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace, labels } },
      undefined,
      undefined,
      FIELD_MANAGER,
    );
  } catch (err) {
    if ((err as { code?: number }).code === 409) return;
    throw clusterError(conn, `making namespace ${namespace}`, err);
  }
}
