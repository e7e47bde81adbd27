/**
 * What dask-gateway's settings hold alike on every target: the per-user limits and the worker sizes users
 * pick from (where their workers land is the target's placement).
 */
import type { DaskGatewaySettings } from "../contracts/dask-gateway.js";
import type { Platform } from "../model/platform.js";

/** The worker sizes as the gateway's settings list them. */
export function gatewayWorkerProfiles(platform: Platform): DaskGatewaySettings["worker_profiles"] {
  return platform.dask.workerProfiles.map(({ name, cores, memory, threads }) => ({
    name,
    cores,
    memory,
    threads,
  }));
}

/** The per-user limits across all of a user's clusters, as the gateway's settings list them. */
export function gatewayLimits(platform: Platform): DaskGatewaySettings["limits"] {
  const { limits } = platform.dask;
  return {
    max_workers: limits.maxWorkers,
    max_cores: limits.maxCores,
    max_memory: limits.maxMemory,
    max_clusters: limits.maxClusters,
  };
}
