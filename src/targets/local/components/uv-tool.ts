/**
 * Atrium's own uv (see ../uv.ts), installed before the environments it builds and
 * used by deploy and by the environment service alike. Reinstalled when the tools
 * lock changes or the install is gone; nothing on PATH is ever used instead.
 */
import type { Component } from "../../component.js";
import type { LocalContext } from "../context.js";
import { installUv, SYSTEM_PYTHON, toolsDir, uvBuildId, uvInstalled } from "../uv.js";

export function uvToolComponent(ctx: LocalContext): Component {
  const { placement } = ctx;
  const id = uvBuildId();
  return {
    name: "uv",
    title: `uv, installed from envs/tools/requirements.lock into ${toolsDir(placement)}`,
    spec: { build: id, python: SYSTEM_PYTHON, path: toolsDir(placement) },
    present: () => uvInstalled(placement),
    async apply(_previous, progress) {
      progress.detail("installing uv from PyPI (hashed lock)");
      const uv = await installUv(placement, progress.detail);
      return { note: uv };
    },
  };
}
