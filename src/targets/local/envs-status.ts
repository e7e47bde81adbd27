/** What `atrium status` says about managed environments: builds running, waiting, and failed. */

import type { ApiEnvironment } from "../../contracts/envs-api.js";
import { localEnvsClient } from "./envs-client.js";
import type { LocalPlacement } from "./placement.js";

export interface EnvsReport {
  answering: boolean;
  environments: number;
  building: Array<{ env: string; build: number; since: string | null }>;
  queued: Array<{ env: string; build: number }>;
  /** Environments whose newest build failed (their current build, if any, is still used). */
  failed: Array<{ env: string; build: number; reason: string; current: number | null }>;
  error?: string;
}

export async function envsReport(placement: LocalPlacement): Promise<EnvsReport> {
  const report: EnvsReport = { answering: false, environments: 0, building: [], queued: [], failed: [] };
  try {
    const envs = await localEnvsClient(placement).json<ApiEnvironment[]>("GET", "environment/?size=1000");
    report.answering = true;
    report.environments = envs.length;
    for (const e of envs) {
      const b = e.latest_build;
      const env = `${e.namespace.name}/${e.name}`;
      if (!b) continue;
      if (b.status === "BUILDING") report.building.push({ env, build: b.id, since: b.started_on });
      else if (b.status === "QUEUED") report.queued.push({ env, build: b.id });
      else if (b.status === "FAILED")
        report.failed.push({ env, build: b.id, reason: b.status_info ?? "", current: e.current_build_id });
    }
  } catch (err) {
    report.error = (err as Error).message;
  }
  return report;
}
