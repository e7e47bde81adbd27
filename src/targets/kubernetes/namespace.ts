/**
 * The platform's Namespace. Pod Security admission enforces the baseline level in it:
 * user pods meet the restricted level, but the storage-prepare job runs as root (with
 * only the capabilities it needs to own folders), which restricted forbids.
 */
import { metaOf, type RenderInput } from "./meta.js";
import type { RenderedObject } from "./objects.js";

export function renderNamespace(input: RenderInput): RenderedObject[] {
  const metadata = metaOf(input, input.placement.namespace, "namespace", false);
  metadata.labels = { ...metadata.labels, "pod-security.kubernetes.io/enforce": "baseline" };
  return [{ wave: "namespace", object: { apiVersion: "v1", kind: "Namespace", metadata } }];
}
