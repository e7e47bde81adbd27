/** The targets Atrium can render for; the config's target.type picks one. */
import type { Platform } from "../model/platform.js";
import type { Artifacts } from "./artifacts.js";
import { renderLocal } from "./local/render.js";

export function renderTarget(platform: Platform): Artifacts {
  return renderLocal(platform);
}
