/** A config's Platform with the local target's placement of it, as the local target derives them. */
import type { Config } from "../../src/config/schema.js";
import { derivePlatform, type Platform } from "../../src/model/platform.js";
import { derivePlacement, type LocalPlacement } from "../../src/targets/local/placement.js";

export interface Local {
  platform: Platform;
  placement: LocalPlacement;
}

export function localOf(config: Config): Local {
  return { platform: derivePlatform(config), placement: derivePlacement(config) };
}
