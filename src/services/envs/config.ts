/** The environment service's rendered config (services/envs.json). */
import { readFileSync } from "node:fs";

export type GroupEditors = "members" | "admins";

export interface EnvsConfig {
  listen: { host: string; port: number };
  /** Path prefix the platform's proxy routes here: /services/envs. */
  prefix: string;
  hubApiUrl: string;
  hubPrefix: string;
  clientId: string;
  /** The service's hub token (also its OAuth client secret); root-only file. */
  apiTokenFile: string;
  /** Namespaces, environments and builds live below this: <envs_dir>/<namespace>/<env>. */
  envsDir: string;
  /** The store (JSON, root-only folder). */
  stateFile: string;
  /** Per-user kernelspecs: <kernelsDir>/<user>/kernels/<kernel>/kernel.json. */
  kernelsDir: string;
  /** Worker environments for dask-gateway ([{name, bin, users}]); null when Dask is off. */
  daskEnvironmentsFile: string | null;
  /** The interpreter every environment is built on. */
  python: string;
  /** The default user env, whose dask and distributed versions managed envs follow. */
  defaultEnv: string;
  uv: {
    /** Atrium's own uv, installed by deploy from the hashed tools lock; never one from PATH. */
    tools: string;
    /** Root-owned folder of uv's caches for builds, one per namespace (`<cacheDir>/<namespace>`). */
    cacheDir: string;
  };
  /** Unprivileged system account that runs every build. */
  buildAccount: string;
  builds: {
    concurrency: number;
    timeoutSeconds: number;
    keep: number;
    /** Packages builds compile from source (PEP 503 names); every other package is wheels only. */
    allowSource: string[];
  };
  /** Where each build's own cgroup is made: `<v1Root>/<controller>/<parent>/build-<id>`. */
  cgroup: { v1Root: string; parent: string };
  /** Default for who may edit a group's environments; admins can change it per group. */
  groupEditors: GroupEditors;
}

export function readEnvsConfig(file: string): EnvsConfig {
  return JSON.parse(readFileSync(file, "utf8")) as EnvsConfig;
}
