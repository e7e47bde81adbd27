/**
 * The platform's volumes: the one shared ReadWriteMany volume (homes, group folders,
 * environments) and the hub's own ReadWriteOnce database volume. A storage class
 * provisions the shared one; an NFS export or a node's folder is a static volume whose
 * claim is pinned to it both ways (claimRef and volumeName), so no other claim can bind
 * it, and which is retained when the claim goes: volumes with data are never deleted
 * by a prune.
 */
import { metaOf, type RenderInput } from "./meta.js";
import type { KubeObject, RenderedObject } from "./objects.js";

/** A static volume's capacity is nominal: an NFS export or a node's folder is not sized by Kubernetes. */
export const STATIC_CAPACITY = "1Gi";

export function renderStorage(input: RenderInput): RenderedObject[] {
  const { placement } = input;
  const { names, block, namespace } = placement;
  const storage = block.storage;
  const claim: KubeObject = {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: metaOf(input, names.sharedClaim, "storage"),
    spec: {
      accessModes: ["ReadWriteMany"],
      resources: { requests: { storage: placement.sizes.shared ?? STATIC_CAPACITY } },
      storageClassName: storage.storage_class ?? "",
      ...(storage.storage_class === undefined ? { volumeName: names.sharedVolume } : {}),
    },
  };
  const out: RenderedObject[] = [];
  if (storage.storage_class === undefined) {
    const source =
      storage.nfs !== undefined
        ? { nfs: { server: storage.nfs.server, path: storage.nfs.path } }
        : { hostPath: { path: storage.host_path?.path, type: "DirectoryOrCreate" } };
    out.push({
      wave: "config",
      object: {
        apiVersion: "v1",
        kind: "PersistentVolume",
        metadata: metaOf(input, names.sharedVolume, "storage", false),
        spec: {
          accessModes: ["ReadWriteMany"],
          capacity: { storage: STATIC_CAPACITY },
          claimRef: { namespace, name: names.sharedClaim },
          persistentVolumeReclaimPolicy: "Retain",
          storageClassName: "",
          ...source,
        },
      },
    });
  }
  out.push({ wave: "config", object: claim });
  const hubClass = block.hub_storage.storage_class;
  out.push({
    wave: "config",
    object: {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: metaOf(input, names.hubDatabase, "hub"),
      spec: {
        accessModes: ["ReadWriteOnce"],
        resources: { requests: { storage: placement.sizes.hubDatabase } },
        ...(hubClass === undefined ? {} : { storageClassName: hubClass }),
      },
    },
  });
  return out;
}
