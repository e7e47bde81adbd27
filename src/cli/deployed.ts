/** The platform a command on a deployed platform works on: -c FILE, ./atrium.yaml, or the deployed file. */
import { loadConfig } from "../config/load.js";
import { derivePlatform, type Platform } from "../model/platform.js";
import { resolveConfigFile } from "../targets/local/machine-links.js";

export function deployedPlatform(config: string | boolean | undefined): Platform {
  return derivePlatform(loadConfig(resolveConfigFile(typeof config === "string" ? config : undefined)));
}
