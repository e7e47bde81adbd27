/** The dask dashboard guard's rendered config (services/dask-auth.json). */
import { readFileSync } from "node:fs";

export interface DaskAuthConfig {
  listen: { host: string; port: number };
  /** The gateway's own HTTP proxy, which serves the API and the dashboards. */
  upstream: string;
  /** Path prefix the platform's proxy routes here, e.g. /services/dask-gateway. */
  prefix: string;
  hubApiUrl: string;
  /** Public path of the hub, for the browser's OAuth redirect, e.g. /hub. */
  hubPrefix: string;
  clientId: string;
  apiTokenFile: string;
}

export function readDaskAuthConfig(file: string): DaskAuthConfig {
  return JSON.parse(readFileSync(file, "utf8")) as DaskAuthConfig;
}
