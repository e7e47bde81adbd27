/** The platform a command on a deployed platform works on: -c FILE, ./atrium.yaml, or the deployed file. */
import { loadConfig } from "../config/load.js";
import { deployedConfigFile, type Target, targetFor } from "../targets/registry.js";

export function deployedTarget(config: string | boolean | undefined): Target {
  const file = deployedConfigFile(typeof config === "string" ? config : undefined);
  return targetFor(loadConfig(file), file);
}
