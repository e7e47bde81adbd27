/**
 * The local target's block of a config. Validation refuses every other target for
 * now, so code that only knows this machine reads its block through here.
 */
import { AtriumError } from "../errors.js";
import type { Config, LocalTargetConfig } from "./schema.js";

export function localTargetOf(config: Config): LocalTargetConfig {
  const target = config.target;
  if (target.type !== "local") {
    throw new AtriumError(
      "not-supported",
      `target "${target.type}" is not supported yet`,
      "use type: local (this machine)",
    );
  }
  return target;
}
