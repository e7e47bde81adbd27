/**
 * What the file asks of the cluster's nodes, checked once the cluster is reachable
 * (at plan): host_path storage is a folder on one node, so it holds only on a
 * single-node cluster. Pure: the node count comes from the caller.
 */
import type { UnlocatedProblem } from "../../config/problem.js";
import type { KubernetesTargetConfig } from "../../config/schema.js";

export function hostPathProblem(
  block: KubernetesTargetConfig,
  nodeCount: number,
): UnlocatedProblem | undefined {
  if (block.storage.host_path === undefined || nodeCount <= 1) return undefined;
  return {
    path: ["target", "storage", "host_path"],
    atKey: true,
    message: `host_path storage is a folder on one node, and this cluster has ${nodeCount} nodes`,
    hint: "use storage_class (a ReadWriteMany class) or nfs, or deploy to a single-node cluster",
  };
}
