/** Everything deploy needs to know about one platform on this machine. */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Config } from "../../config/schema.js";
import { pidAlive } from "../../lib/process.js";
import { derivePlatform, type Platform } from "../../model/platform.js";
import type { Component } from "../component.js";
import { localComponents } from "./components/index.js";
import { supervisorPid } from "./components/services.js";
import { hasSystemd, type LocalContext } from "./context.js";
import { checkClientSecret } from "./oidc.js";
import { checkPrerequisites } from "./prerequisites.js";
import { renderLocal } from "./render.js";
import { renderSupervisor } from "./supervisor-spec.js";

export interface LocalTarget {
  platform: Platform;
  ctx: LocalContext;
  components: Component[];
  stateDir: string;
  /** Checks made before any change; throws one AtriumError listing every problem. */
  preflight(): Promise<void>;
}

/** Whether this platform's supervisor or any of its processes runs (so its ports are its own). */
function platformRunning(platform: Platform): boolean {
  if (supervisorPid(platform) !== undefined) return true;
  return renderSupervisor(platform).processes.some((p) => {
    try {
      const pid = Number.parseInt(readFileSync(p.pidFile, "utf8"), 10);
      return Number.isInteger(pid) && pid > 0 && pidAlive(pid);
    } catch {
      return false;
    }
  });
}

export function localTarget(config: Config, configFile: string): LocalTarget {
  const platform = derivePlatform(config);
  const ctx: LocalContext = {
    platform,
    artifacts: renderLocal(platform),
    configDir: dirname(resolve(configFile)),
    configFile: resolve(configFile),
    systemd: hasSystemd(),
  };
  return {
    platform,
    ctx,
    components: localComponents(ctx),
    stateDir: platform.paths.stateDir,
    preflight: async () => {
      checkClientSecret(platform);
      await checkPrerequisites(platform, platformRunning(platform));
    },
  };
}
