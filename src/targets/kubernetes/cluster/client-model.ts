/**
 * Atrium's objects as the Kubernetes client sends them. The client serializes each known
 * kind through its generated models, which name a few fields otherwise than the API does
 * (a NetworkPolicy rule's `from` is `_from`): a plain object in the API's own shape would
 * lose those fields on the way out, silently. So every object is read into the client's
 * models first, through its own loader (JSON is YAML), and comes out as it went in.
 */
import { type KubernetesObject, loadYaml } from "@kubernetes/client-node";

export function asClientModel<T extends KubernetesObject>(obj: T): T {
  return loadYaml<T>(JSON.stringify(obj));
}
