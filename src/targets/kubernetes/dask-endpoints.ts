/**
 * Where dask-gateway answers inside the cluster, and the parts of a Dask platform by
 * component: the gateway, each cluster's scheduler and its workers. Users' servers
 * reach the gateway at its Service (its web proxy for the API, its TLS proxy for
 * schedulers), so `Gateway()` needs no arguments there.
 */
import type { KubernetesPlacement } from "./placement.js";

export const GATEWAY_COMPONENT = "dask-gateway";
export const SCHEDULER_COMPONENT = "dask-scheduler";
export const WORKER_COMPONENT = "dask-worker";
/** Labels the gateway's pod backend (python/atrium_hub/dask_pods.py) puts on each cluster's pods. */
export const DASK_CLUSTER_LABEL = "atrium.dev/dask-cluster";
export const DASK_USER_LABEL = "atrium.dev/user";
export const GATEWAY_SERVICE = "dask-gateway";
export const GATEWAY_PREFIX = `/services/${GATEWAY_SERVICE}`;
/** The gateway's web proxy (its API) and TLS proxy (schedulers, by SNI). */
export const GATEWAY_WEB_PORT = 8000;
export const GATEWAY_TLS_PORT = 8786;
/** A scheduler's ports (python/atrium_hub/dask_pods.py fixes them): Dask and the gateway's API; no dashboard. */
export const SCHEDULER_PORTS = [8786, 8788] as const;

/** The gateway's API as users' servers and schedulers reach it. */
export function gatewayApiBase(placement: KubernetesPlacement): string {
  return `http://${placement.names.daskGateway}:${GATEWAY_WEB_PORT}${GATEWAY_PREFIX}`;
}

/** dask's config as environment variables of a user's server: the gateway, its TLS proxy, hub tokens. */
export function daskClientEnvironment(placement: KubernetesPlacement): Record<string, string> {
  return {
    DASK_GATEWAY__ADDRESS: gatewayApiBase(placement),
    DASK_GATEWAY__PROXY_ADDRESS: `tls://${placement.names.daskGateway}:${GATEWAY_TLS_PORT}`,
    DASK_GATEWAY__AUTH__TYPE: "jupyterhub",
  };
}
