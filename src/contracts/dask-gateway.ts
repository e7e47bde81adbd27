/**
 * dask-gateway-server's settings (dask-gateway/gateway.json): rendered by the target,
 * read by the hub glue's backend (python/atrium_hub/dask_gateway.py) at gateway start.
 */
import { z } from "zod";
import { absPath, cgroupParent, hostPort, httpUrl, nonEmpty, port, urlPath } from "./common.js";
import { CGROUP_MODES } from "./hub-settings.js";

/** A Python environment clusters may run in; also the shape of the dask-environments file. */
export const daskEnvironment = z.strictObject({
  name: nonEmpty,
  bin: absPath.describe("the environment's bin folder (holds dask)"),
  users: z.array(nonEmpty).nullable().describe("null: everyone; otherwise who may use it"),
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
    clusters_dir: absPath,
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
    cgroup: z.strictObject({
      mode: z.enum(CGROUP_MODES),
      v1_root: absPath,
      parent: cgroupParent,
      pids_limit: z.number().int().min(0).optional().describe("0: no limit"),
    }),
  })
  .describe("dask-gateway/gateway.json: read by python/atrium_hub/dask_gateway.py");

export type DaskGatewaySettings = z.input<typeof daskGatewaySettings>;

/** <envs_dir>/.dask-environments.json: written by the environment service, read by the gateway at each request. */
export const daskEnvironments = z
  .array(daskEnvironment)
  .describe("the managed environments dask-gateway offers besides its own");

export type DaskEnvironments = z.input<typeof daskEnvironments>;
