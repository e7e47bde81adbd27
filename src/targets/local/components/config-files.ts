/** The rendered config files under <prefix>/etc: what the hub and supervisor read. */
import { existsSync } from "node:fs";
import { posix } from "node:path";
import { writeArtifacts } from "../../../lib/artifact-files.js";
import { hashOf, hashText } from "../../../lib/hash.js";
import type { Component } from "../../component.js";
import type { LocalContext } from "../context.js";
import { machineGpuShortfalls } from "../gpus.js";
import { HUB_CONFIG_FILE } from "../supervisor-spec.js";

type Outline = Record<string, string | Record<string, string>>;

/** Each file's hash; for a JSON file, the hash of each top-level key, to name what changed in it. */
function outlineOf(artifacts: ReadonlyMap<string, string>): Outline {
  const outline: Outline = {};
  for (const [path, content] of artifacts) {
    let keys: Record<string, string> | undefined;
    if (path.endsWith(".json")) {
      try {
        const data = JSON.parse(content) as unknown;
        if (typeof data === "object" && data !== null && !Array.isArray(data))
          keys = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, hashOf(v)]));
      } catch {
        // not JSON after all: the file's hash says enough
      }
    }
    outline[path] = keys ?? hashText(content);
  }
  return outline;
}

/** One line per file that changes, naming the changed keys of JSON files. */
export function explainFiles(previous: Outline | undefined, current: Outline): string[] {
  const lines: string[] = [];
  for (const [path, now] of Object.entries(current)) {
    const before = previous?.[path];
    if (before === undefined) {
      lines.push(`writes ${path}`);
      continue;
    }
    if (JSON.stringify(before) === JSON.stringify(now)) continue;
    if (typeof before === "object" && typeof now === "object") {
      const keys = [...new Set([...Object.keys(before), ...Object.keys(now)])].filter(
        (k) => before[k] !== now[k],
      );
      lines.push(`${path} changes: ${keys.join(", ")}`);
      if (path === HUB_CONFIG_FILE && keys.includes("profiles"))
        lines.push("running servers keep the profile limits they started with until they restart");
    } else lines.push(`${path} changes`);
  }
  for (const path of Object.keys(previous ?? {})) if (!(path in current)) lines.push(`removes ${path}`);
  return lines;
}

export function configFilesComponent(ctx: LocalContext): Component {
  const { artifacts, placement } = ctx;
  const spec = Object.fromEntries([...artifacts].map(([path, content]) => [path, hashText(content)]));
  const outline = outlineOf(artifacts);
  return {
    name: "config-files",
    title: `rendered config in ${placement.paths.etcDir}`,
    spec,
    outline,
    explain: (previous) => explainFiles(previous as Outline | undefined, outline),
    present: () => [...artifacts.keys()].every((p) => existsSync(posix.join(placement.paths.etcDir, p))),
    // the hub config carries profiles[].gpus; deploy refuses these in its preflight
    warnings: () => machineGpuShortfalls(ctx.platform, ctx.devDir).map((l) => `deploy will refuse: ${l}`),
    async apply() {
      const changed = writeArtifacts(placement.paths.etcDir, artifacts);
      return { note: changed.length === 0 ? "unchanged" : `${changed.length} written` };
    },
  };
}
