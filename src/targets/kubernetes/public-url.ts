/**
 * The platform's public address as the render can know it: an ingress's host, or the
 * proxy's public Service inside the cluster (a load balancer's or a node's address is
 * known only once the cluster gives it; the target's endpoints read it there).
 */
import type { KubernetesPlacement } from "./placement.js";

export function tlsAtProxy(placement: KubernetesPlacement): boolean {
  return placement.block.https.mode !== "none" && placement.block.expose.type !== "Ingress";
}

export function publicUrl(placement: KubernetesPlacement): string {
  const { block, names, namespace } = placement;
  const scheme = block.https.mode === "none" ? "http" : "https";
  if (block.expose.type === "Ingress") return `${scheme}://${block.expose.host}`;
  return `${scheme}://${names.proxyPublic}.${namespace}.svc`;
}
