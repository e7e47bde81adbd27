/**
 * The platform's public address as the render can know it: an ingress's host. A load
 * balancer's or a node's address is known only once the cluster gives it (the target's
 * endpoints read it there), so the hub is told none and builds its redirects from each
 * request's own address: a name inside the cluster would send browsers (and the servers'
 * OAuth redirects) to an address they cannot resolve.
 */
import type { KubernetesPlacement } from "./placement.js";

export function tlsAtProxy(placement: KubernetesPlacement): boolean {
  return placement.block.https.mode !== "none" && placement.block.expose.type !== "Ingress";
}

export function publicUrl(placement: KubernetesPlacement): string | null {
  const { block } = placement;
  if (block.expose.type !== "Ingress") return null;
  const scheme = block.https.mode === "none" ? "http" : "https";
  return `${scheme}://${block.expose.host}`;
}
