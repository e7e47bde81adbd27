/**
 * The platform's folders, with owners and modes; secrets and state are root-only.
 * The state remembers every folder this component made (parents included), so
 * `destroy --purge` removes those and leaves folders that were there before.
 */
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import type { Component, StateEntry } from "../../component.js";
import type { LocalContext } from "../context.js";
import { gatewayClustersDir, gatewayDataDir } from "../dask-gateway.js";
import { ensureDir } from "../fsutil.js";

export interface DirectoriesData {
  /** Folders Atrium made, in the order it made them (parents first). */
  created: string[];
}

export function readDirectoriesData(entry: StateEntry | undefined): DirectoriesData {
  const d = entry?.data as Partial<DirectoriesData> | undefined;
  return { created: d?.created ?? [] };
}

/** `dir` and its parents that do not exist yet, outermost first. */
function missingChain(dir: string): string[] {
  const out: string[] = [];
  for (let d = dir; !existsSync(d) && d !== dirname(d); d = dirname(d)) out.unshift(d);
  return out;
}

export function directoriesComponent(ctx: LocalContext): Component {
  const p = ctx.placement.paths;
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
          [gatewayDataDir(ctx.placement), 0o700],
          [gatewayClustersDir(ctx.placement), 0o755],
        ] as Array<[string, number]>)
      : []),
  ];
  const spec = dirs.map(([d, m]) => [d, m.toString(8)]);
  return {
    name: "directories",
    title: "platform folders",
    spec,
    present: () => dirs.every(([d]) => existsSync(d)),
    async apply(previous, progress) {
      const data = readDirectoriesData(previous);
      for (const [d, m] of dirs) {
        const missing = missingChain(d);
        if (missing.length > 0) {
          // Recorded before mkdir, so a deploy killed right after it still knows the folder is Atrium's.
          data.created = [...new Set([...data.created, ...missing])];
          await progress.checkpoint?.(data);
        }
        ensureDir(d, m);
      }
      return { note: `${dirs.length} folders`, data };
    },
  };
}
