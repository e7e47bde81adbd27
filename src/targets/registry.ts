/**
 * The targets Atrium can deploy to. This is the only place that looks at
 * `target.type`: everything else works with the Target it returns. A new target is
 * one case here and its own folder under src/targets/.
 */
import type { Config } from "../config/schema.js";
import { AtriumError } from "../errors.js";
import { kubernetesTarget } from "./kubernetes/target.js";
import { resolveConfigFile } from "./local/machine-links.js";
import { supervise } from "./local/supervise.js";
import { localTarget } from "./local/target.js";
import type { EnvsApi, Target } from "./target.js";

export type { EnvsApi, Target };

export function targetFor(config: Config, configFile: string): Target {
  const type = config.target.type;
  switch (type) {
    case "local":
      return localTarget(config, configFile);
    case "kubernetes":
      return kubernetesTarget(config, configFile);
    default:
      throw new AtriumError(
        "not-supported",
        `target.type "${type}" is not supported yet`,
        'use "local" (or "kubernetes", which renders and plans but cannot deploy yet)',
      );
  }
}

/**
 * The config file a command on a deployed platform reads: -c FILE, ./atrium.yaml, or
 * the file this machine remembers as deployed (the local target keeps that link).
 */
export function deployedConfigFile(given: string | undefined): string {
  return resolveConfigFile(given);
}

/** `atrium supervise`: the local target's process supervisor, run in the foreground. */
export { supervise };
