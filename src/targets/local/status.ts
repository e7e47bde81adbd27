/** What `atrium status` reports: processes, servers, limits. Reads only; changes nothing. */
import type { Platform } from "../../model/platform.js";
import { detectCgroups } from "./cgroups.js";
import { readStatus, supervisorPid } from "./components/services.js";
import { probe } from "./health.js";
import { HubApi } from "./hub-api.js";
import { publicUrl } from "./hub-config.js";

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
  auth: string;
}

export async function platformStatus(platform: Platform): Promise<PlatformStatus> {
  const pid = supervisorPid(platform) ?? null;
  const status = readStatus(platform);
  const url = publicUrl(platform);
  const answering = (await probe(`${url}/hub/api`)) === 200;
  let servers: PlatformStatus["servers"] = null;
  let serversError: string | undefined;
  if (answering) {
    try {
      const users = await new HubApi(platform).users();
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
  const cg = detectCgroups(`${platform.cgroupParent}/users`);
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
    auth:
      platform.auth.type === "password"
        ? "password (hashes kept by the hub)"
        : `oidc (${platform.auth.preset ?? platform.auth.issuer ?? "issuer"})`,
  };
  if (serversError) result.serversError = serversError;
  return result;
}
