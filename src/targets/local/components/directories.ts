/** The platform's folders, with owners and modes; secrets and state are root-only. */
import { existsSync } from "node:fs";
import type { Component } from "../../../deploy/component.js";
import type { LocalContext } from "../context.js";
import { gatewayClustersDir, gatewayDataDir } from "../dask-gateway.js";
import { ensureDir } from "../fsutil.js";

export function directoriesComponent(ctx: LocalContext): Component {
  const p = ctx.platform.paths;
  const dirs: Array<[string, number]> = [
    [p.prefix, 0o755],
    [p.etcDir, 0o755],
    [p.dataDir, 0o755],
    [p.secretsDir, 0o700],
    [p.hubDataDir, 0o700],
    [p.stateDir, 0o700],
    [p.runDir, 0o755],
    [p.logDir, 0o750],
    [p.sharedDir, 0o755],
    [p.envsDir, 0o755],
    [p.homeDir, 0o755],
    ...(ctx.platform.dask.enabled
      ? ([
          [gatewayDataDir(ctx.platform), 0o700],
          [gatewayClustersDir(ctx.platform), 0o755],
        ] as Array<[string, number]>)
      : []),
  ];
  const spec = dirs.map(([d, m]) => [d, m.toString(8)]);
  return {
    name: "directories",
    title: "platform folders",
    spec,
    present: () => dirs.every(([d]) => existsSync(d)),
    async apply() {
      for (const [d, m] of dirs) ensureDir(d, m);
      return { note: `${dirs.length} folders` };
    },
  };
}
