/**
 * The dask-gateway client config inside the default user env (<env>/etc/dask), so
 * `Gateway()` works with no arguments in kernels, terminals and SSH sessions alike.
 * It is written into the env's current build; a rebuilt env gets it again.
 */
import { existsSync } from "node:fs";
import { posix } from "node:path";
import { hashText } from "../../../lib/hash.js";
import type { Component } from "../../component.js";
import type { LocalContext } from "../context.js";
import { DASK_CLIENT_CONFIG } from "../dask-gateway.js";
import { writeFileAtomic } from "../fsutil.js";
import { envBuildId } from "./python-envs.js";

export function daskClientComponent(ctx: LocalContext): Component | undefined {
  const text = ctx.artifacts.get(DASK_CLIENT_CONFIG);
  if (!ctx.platform.dask.enabled || text === undefined) return undefined;
  const path = posix.join(ctx.placement.paths.userVenv, "etc", "dask", "gateway.yaml");
  return {
    name: "dask-client",
    title: "dask-gateway client config in the user env",
    spec: { config: hashText(text), env: envBuildId("user") },
    present: () => existsSync(path),
    async apply() {
      writeFileAtomic(path, text, 0o644);
      return {};
    },
  };
}
