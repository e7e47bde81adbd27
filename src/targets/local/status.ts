/** What `atrium status` reports: processes, servers, limits. Reads only; changes nothing. */
import { existsSync } from "node:fs";
import { posix } from "node:path";
import type { Platform } from "../../model/platform.js";
import { describeAuth } from "../oidc-client-secret.js";
import { detectCgroups } from "./cgroups.js";
import { readStatus, supervisorPid } from "./components/services.js";
import { gatewayDbFile } from "./dask-gateway.js";
import { type EnvsReport, envsReport } from "./envs-status.js";
import { tryRun } from "./exec.js";
import { probe } from "./health.js";
import { HubApi } from "./hub-api.js";
import type { LocalPlacement } from "./placement.js";
import { type SshReport, sshReport } from "./ssh-config.js";
import { publicUrl } from "./urls.js";

export interface PlatformStatus {
  project: string;
  url: string;
  answering: boolean;
  supervisor: { pid: number | null };
  processes: Array<{
    name: string;
    state: string;
    pid: number | null;
    since: string | null;
    restarts: number;
    lastError: string | null;
    log: string;
  }>;
  servers: Array<{ user: string; ready: boolean; started: string | null; profile: string | null }> | null;
  serversError?: string;
  limits: { enforced: boolean; mode: string; reason?: string };
  /** Dask clusters by user, from the gateway's database; null when Dask is off or unreadable. */
  daskClusters: Array<{ name: string; user: string; status: string; workers: number }> | null;
  auth: string;
  /** The SSH gateway and its open sessions; null when SSH is off. */
  ssh: SshReport | null;
  /** Managed environments: builds running, waiting and failed. */
  envs: EnvsReport;
}

async function daskClusters(placement: LocalPlacement): Promise<PlatformStatus["daskClusters"]> {
  const db = gatewayDbFile(placement);
  if (!existsSync(db)) return [];
  const out = await tryRun(posix.join(placement.paths.hubVenv, "bin", "python"), [
    "-m",
    "atrium_hub.dask_status",
    db,
  ]);
  return out === undefined ? null : (JSON.parse(out) as PlatformStatus["daskClusters"]);
}

export async function platformStatus(platform: Platform, placement: LocalPlacement): Promise<PlatformStatus> {
  const pid = supervisorPid(platform, placement) ?? null;
  const status = readStatus(placement);
  const url = publicUrl(placement);
  const answering = (await probe(`${url}/hub/api`)) === 200;
  let servers: PlatformStatus["servers"] = null;
  let serversError: string | undefined;
  if (answering) {
    try {
      const users = await new HubApi(placement).users();
      servers = users.flatMap((u) =>
        Object.values(u.servers ?? {}).map((s) => ({
          user: u.name,
          ready: s.ready,
          started: s.started,
          profile: (s.user_options as { profile?: string } | undefined)?.profile ?? null,
        })),
      );
    } catch (err) {
      serversError = (err as Error).message;
    }
  }
  const cg = detectCgroups(`${placement.cgroupParent}/users`);
  const result: PlatformStatus = {
    project: platform.project.name,
    url,
    answering,
    supervisor: { pid },
    processes: (status?.processes ?? []).map((p) => ({
      name: p.name,
      state: pid === null ? "down" : p.state,
      pid: pid === null ? null : p.pid,
      since: p.startedAt,
      restarts: p.restarts,
      lastError: p.lastError,
      log: p.log,
    })),
    servers,
    limits: { enforced: cg.mode !== "off", mode: cg.mode, ...(cg.reason ? { reason: cg.reason } : {}) },
    daskClusters: platform.dask.enabled ? await daskClusters(placement) : null,
    auth: describeAuth(platform),
    ssh: sshReport(platform, placement),
    envs: await envsReport(placement),
  };
  if (serversError) result.serversError = serversError;
  return result;
}
