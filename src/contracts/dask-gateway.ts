/**
 * dask-gateway-server's settings (dask-gateway/gateway.json): rendered by the target,
 * read by the hub glue's backend (python/atrium_hub/dask_gateway.py) at gateway start.
 */
import { z } from "zod";
import { absPath, cgroupParent, hostPort, httpUrl, nonEmpty, port, urlPath } from "./common.js";
import { CGROUP_MODES } from "./hub-settings.js";
import { kubeUser, labelMap, restrictedContext, toleration, volume, volumeMount } from "./kube-spawner.js";

/** A Python environment clusters may run in; also the shape of the dask-environments file. */
export const daskEnvironment = z.strictObject({
  name: nonEmpty,
  bin: absPath.describe("the environment's bin folder (holds dask)"),
  users: z.array(nonEmpty).nullable().describe("null: everyone; otherwise who may use it"),
});

/**
 * Clusters as pods (the kubernetes target): each scheduler and worker a pod in the
 * namespace running as its user (uid, own gid, groups), with their home, their groups'
 * folders and the environments (read-only) mounted as in their server's pod.
 */
export const daskPods = z.strictObject({
  namespace: nonEmpty,
  image: nonEmpty,
  image_pull_policy: z.enum(["IfNotPresent", "Always", "Never"]),
  umask: z.string().regex(/^0[0-7]{3}$/),
  scheduler_labels: labelMap,
  worker_labels: labelMap,
  container_security_context: restrictedContext,
  volumes: z.array(volume),
  volume_mounts: z.array(volumeMount).describe("mounts every scheduler and worker pod has"),
  users: z.array(kubeUser).describe("who a user's pods run as, and their home and group folders"),
  worker_pools: z
    .array(z.strictObject({ name: nonEmpty, node_selector: labelMap, tolerations: z.array(toleration) }))
    .describe("each worker profile's node selector and tolerations"),
  scheduler_cores: z.number().gt(0).describe("each scheduler's CPU limit"),
});

const localClusters = z.strictObject({
  mode: z.enum(CGROUP_MODES),
  v1_root: absPath,
  parent: cgroupParent,
  pids_limit: z.number().int().min(0).optional().describe("0: no limit"),
});

export const daskGatewaySettings = z
  .strictObject({
    project: nonEmpty,
    hub_api_url: httpUrl,
    service_name: nonEmpty,
    api_token_file: absPath,
    db_url: nonEmpty,
    db_key_file: absPath,
    address: hostPort.describe("the private API; port 0: the system picks"),
    proxy: z.strictObject({ address: hostPort, tcp_address: hostPort, prefix: urlPath }),
    api_url: httpUrl.nullable().optional().describe("where schedulers reach the API (through the guard)"),
    clusters_dir: absPath.optional().describe("processes on this machine: their work folders"),
    worker_profiles: z
      .array(
        z.strictObject({
          name: nonEmpty,
          cores: z.number().gt(0),
          memory: z.number().int().min(1).describe("bytes"),
          threads: z.number().int().min(1),
        }),
      )
      .min(1),
    scheduler_memory: z.number().int().min(0).describe("bytes, counted in limits.max_memory"),
    environments: z.array(daskEnvironment),
    environments_file: absPath
      .nullable()
      .optional()
      .describe("managed environments, written by the environment service (dask-environments contract)"),
    firewall_file: absPath.nullable().optional().describe("nft script letting only root reach the web proxy"),
    dashboard_ports: z
      .tuple([port, port])
      .optional()
      .describe("first and last port of the root-only block the schedulers' dashboards listen on"),
    limits: z.strictObject({
      max_workers: z.number().int().min(0),
      max_cores: z.number().min(0),
      max_memory: z.number().int().min(0),
      max_clusters: z.number().int().min(0),
    }),
    idle_timeout: z.number().min(0).describe("seconds; 0: never"),
    cgroup: localClusters.optional().describe("processes on this machine: their cgroups"),
    pods: daskPods.optional().describe("clusters as pods of a Kubernetes namespace"),
  })
  .refine((s) => (s.pods === undefined) === (s.clusters_dir !== undefined && s.cgroup !== undefined), {
    error: "either pods, or clusters_dir and cgroup (processes on this machine)",
  })
  .describe(
    "dask-gateway/gateway.json: read by python/atrium_hub/dask_gateway.py (processes) or dask_pods.py (pods)",
  );

export type DaskPods = z.input<typeof daskPods>;

export type DaskGatewaySettings = z.input<typeof daskGatewaySettings>;

/** <envs_dir>/.dask-environments.json: written by the environment service, read by the gateway at each request. */
export const daskEnvironments = z
  .array(daskEnvironment)
  .describe("the managed environments dask-gateway offers besides its own");

export type DaskEnvironments = z.input<typeof daskEnvironments>;
