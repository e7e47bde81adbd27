/**
 * Atrium's own uv (see ../uv.ts), installed before the environments it builds and
 * used by deploy and by the environment service alike. Reinstalled when the tools
 * lock changes or the install is gone; nothing on PATH is ever used instead.
 */
import type { Component } from "../../component.js";
import type { LocalContext } from "../context.js";
import { installUv, SYSTEM_PYTHON, toolsDir, uvBuildId, uvInstalled } from "../uv.js";

export function uvToolComponent(ctx: LocalContext): Component {
  const { platform } = ctx;
  const id = uvBuildId();
  return {
    name: "uv",
    title: `uv, installed from envs/tools/requirements.lock into ${toolsDir(platform)}`,
    spec: { build: id, python: SYSTEM_PYTHON, path: toolsDir(platform) },
    present: () => uvInstalled(platform),
    async apply(_previous, progress) {
      progress.detail("installing uv from PyPI (hashed lock)");
      const uv = await installUv(platform, progress.detail);
      return { note: uv };
    },
  };
}
