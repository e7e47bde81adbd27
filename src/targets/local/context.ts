/** What the local target's components share while planning and applying. */
import { existsSync } from "node:fs";
import type { Platform } from "../../model/platform.js";
import type { Artifacts } from "../artifacts.js";
import type { LocalPlacement } from "./placement.js";

export interface LocalContext {
  platform: Platform;
  /** Where the platform sits on this machine. */
  placement: LocalPlacement;
  artifacts: Artifacts;
  /** The config file being deployed (absent where nothing is deployed, as in unit tests). */
  configFile?: string;
  /** True when systemd runs this machine (PID 1). */
  systemd: boolean;
  /** Where the device nodes are (/dev when absent); tests give a fake folder. */
  devDir?: string;
}

export function hasSystemd(): boolean {
  return existsSync("/run/systemd/system");
}
