/**
 * destroy on the cluster. Plain: every object Atrium applied goes, in reverse order,
 * and the user servers' pods with them; the volumes, the Secrets (the generated
 * secrets and passwords, the state) and the namespace stay, so the next deploy finds
 * the data and the same secrets. --purge: a Job empties the shared volume first (its
 * folders are on storage Atrium does not own), then the namespace goes with everything
 * in it, then the cluster-wide PersistentVolume.
 */
import { BatchV1Api, CoreV1Api, type V1Job } from "@kubernetes/client-node";
import type { Progress } from "../../component.js";
import type { DeployState } from "../../target.js";
import { USER_COMPONENT } from "../kube-spawner.js";
import { instanceLabels, type KubernetesPlacement, VOLUME_DIRS } from "../placement.js";
import { type ClusterConnection, clusterError, isNotFound } from "./connection.js";
import { namespaceExists } from "./namespace.js";
import { DATA_KINDS, leftoverComponents } from "./object-component.js";
import { waitReady } from "./wait.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function deleteUserPods(conn: ClusterConnection, placement: KubernetesPlacement, project: string) {
  const core = conn.config.makeApiClient(CoreV1Api);
  try {
    await core.deleteCollectionNamespacedPod({
      namespace: placement.namespace,
      labelSelector: `app.kubernetes.io/instance=${project},app.kubernetes.io/component=${USER_COMPONENT}`,
    });
  } catch (err) {
    if (!isNotFound(err)) throw clusterError(conn, "deleting the user servers' pods", err);
  }
}

/** Empties every folder Atrium keeps on the shared volume (VOLUME_DIRS), as root in a Job. */
async function emptySharedVolume(
  conn: ClusterConnection,
  placement: KubernetesPlacement,
  project: string,
  image: string,
  progress: Progress,
) {
  const labels = instanceLabels(project, "purge");
  const job: V1Job = {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: "purge-shared-volume", namespace: placement.namespace, labels },
    spec: {
      backoffLimit: 2,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: "Never",
          automountServiceAccountToken: false,
          securityContext: { runAsUser: 0, runAsGroup: 0, seccompProfile: { type: "RuntimeDefault" } },
          containers: [
            {
              name: "purge",
              image,
              imagePullPolicy: "IfNotPresent",
              command: ["rm", "-rf", "--", ...Object.values(VOLUME_DIRS).map((dir) => `/srv/atrium/${dir}`)],
              securityContext: {
                allowPrivilegeEscalation: false,
                capabilities: { drop: ["ALL"], add: ["DAC_OVERRIDE", "FOWNER"] },
              },
              volumeMounts: [{ name: "shared", mountPath: "/srv/atrium" }],
            },
          ],
          volumes: [{ name: "shared", persistentVolumeClaim: { claimName: placement.names.sharedClaim } }],
        },
      },
    },
  };
  const batch = conn.config.makeApiClient(BatchV1Api);
  try {
    await batch.deleteNamespacedJob({
      name: "purge-shared-volume",
      namespace: placement.namespace,
      propagationPolicy: "Foreground",
    });
    await sleep(1000);
  } catch (err) {
    if (!isNotFound(err)) throw clusterError(conn, "deleting an earlier purge job", err);
  }
  try {
    await batch.createNamespacedJob({ namespace: placement.namespace, body: job });
  } catch (err) {
    throw clusterError(conn, "starting the job that empties the shared volume", err);
  }
  await waitReady(conn, job as Parameters<typeof waitReady>[1], progress);
  progress.detail(
    "emptied the shared volume (homes, group folders, environments, the Dask gateway's database)",
  );
}

async function deleteNamespace(conn: ClusterConnection, namespace: string, progress: Progress) {
  const core = conn.config.makeApiClient(CoreV1Api);
  try {
    await core.deleteNamespace({ name: namespace });
  } catch (err) {
    if (!isNotFound(err)) throw clusterError(conn, `deleting namespace ${namespace}`, err);
  }
  const deadline = Date.now() + 180_000;
  while (await namespaceExists(conn, namespace)) {
    if (Date.now() > deadline)
      throw clusterError(conn, `waiting for namespace ${namespace} to go`, new Error("timed out"));
    await sleep(1000);
  }
  progress.detail(`namespace ${namespace} deleted`);
}

export async function destroyOnCluster(
  conn: ClusterConnection,
  placement: KubernetesPlacement,
  project: string,
  state: DeployState,
  options: { purge: boolean; image: string; sharedVolume: string | undefined },
  progress: Progress,
): Promise<void> {
  const { namespace } = placement;
  if (!(await namespaceExists(conn, namespace))) {
    progress.detail(`namespace ${namespace} does not exist: nothing to destroy`);
    return;
  }
  await deleteUserPods(conn, placement, project);
  // every object the state holds, in reverse order; volumes stay (they hold data)
  for (const c of leftoverComponents(conn, state, new Set())) {
    const kind = c.name.split("/")[0] ?? "";
    if (kind === "namespace") continue;
    if ([...DATA_KINDS].some((k) => k.toLowerCase() === kind)) continue;
    const entry = state.components[c.name];
    if (entry) await c.remove?.(entry, progress);
  }
  progress.detail("stopped the hub, the proxy and the user servers; volumes, secrets and state kept");
  if (!options.purge) return;
  await emptySharedVolume(conn, placement, project, options.image, progress);
  await deleteNamespace(conn, namespace, progress);
  if (options.sharedVolume) {
    const core = conn.config.makeApiClient(CoreV1Api);
    try {
      await core.deletePersistentVolume({ name: options.sharedVolume });
    } catch (err) {
      if (!isNotFound(err))
        throw clusterError(conn, `deleting persistent volume ${options.sharedVolume}`, err);
    }
  }
}
