/** The local target: the platform on this machine, as one implementation of Target. */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Config } from "../../config/schema.js";
import { pidAlive } from "../../lib/process.js";
import { derivePlatform, type Platform } from "../../model/platform.js";
import { checkClientSecret } from "../oidc-client-secret.js";
import type { Target } from "../target.js";
import { localComponents } from "./components/index.js";
import { supervisorPid } from "./components/services.js";
import { hasSystemd, type LocalContext } from "./context.js";
import { destroyLocal } from "./destroy.js";
import { localEnvsClient } from "./envs-client.js";
import { DEV_DIR } from "./gpus.js";
import { stateDirLock } from "./lock-file.js";
import { logFiles, showLog } from "./logs.js";
import { setPassword } from "./passwords.js";
import { derivePlacement, type LocalPlacement } from "./placement.js";
import { checkPrerequisites } from "./prerequisites.js";
import { renderLocal } from "./render.js";
import { stateFileStore } from "./state-file.js";
import { platformStatus } from "./status.js";
import { statusLines } from "./status-text.js";
import { renderSupervisor } from "./supervisor-spec.js";
import { publicUrl } from "./urls.js";

export interface LocalTarget extends Target {
  ctx: LocalContext;
}

/** Whether this platform's supervisor or any of its processes runs (so its ports are its own). */
function platformRunning(platform: Platform, placement: LocalPlacement): boolean {
  if (supervisorPid(platform, placement) !== undefined) return true;
  return renderSupervisor(platform, placement).processes.some((p) => {
    try {
      const pid = Number.parseInt(readFileSync(p.pidFile, "utf8"), 10);
      return Number.isInteger(pid) && pid > 0 && pidAlive(pid);
    } catch {
      return false;
    }
  });
}

export function localTarget(config: Config, configFile: string): LocalTarget {
  const platform = derivePlatform(config, dirname(resolve(configFile)));
  const placement = derivePlacement(config);
  const ctx: LocalContext = {
    platform,
    placement,
    artifacts: renderLocal(platform, placement),
    configFile: resolve(configFile),
    systemd: hasSystemd(),
    devDir: DEV_DIR,
  };
  const { stateDir } = placement.paths;
  return {
    type: "local",
    platform,
    ctx,
    render: () => ctx.artifacts,
    components: () => localComponents(ctx),
    state: stateFileStore(stateDir, platform.project.name),
    lock: stateDirLock(stateDir),
    preflight: async () => {
      checkClientSecret(platform);
      await checkPrerequisites(platform, placement, platformRunning(platform, placement), ctx.devDir);
    },
    status: async () => {
      const report = await platformStatus(platform, placement);
      return { answering: report.answering, report, lines: statusLines(report) };
    },
    logNames: () => [...logFiles(platform, placement).keys()],
    logs: (name, options) => showLog(platform, placement, name, options),
    destroy: (purge, progress) => destroyLocal(platform, placement, purge, progress),
    endpoints: () => {
      const url = publicUrl(placement);
      const host = new URL(url).hostname;
      return [
        { name: "hub", url },
        ...(platform.ssh.enabled ? [{ name: "ssh", url: `ssh://${host}:${platform.ssh.port}` }] : []),
      ];
    },
    passwords: { set: (user, password) => setPassword(placement, user, password) },
    envs: (actAs) => localEnvsClient(placement, actAs),
  };
}
