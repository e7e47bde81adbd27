/** Writing rendered artifacts to a folder, and comparing a folder with them (drift checks). */
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";

/** Rendered files: relative path -> content. */
type Artifacts = ReadonlyMap<string, string>;

/** Write each artifact atomically (temp file + rename); returns the paths that changed. */
export function writeArtifacts(dir: string, artifacts: Artifacts, mode = 0o644): string[] {
  const changed: string[] = [];
  for (const [rel, content] of artifacts) {
    const path = join(dir, rel);
    if (readOrUndefined(path) === content) continue;
    mkdirSync(dirname(path), { recursive: true });
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, content, { mode });
    renameSync(tmp, path);
    changed.push(rel);
  }
  return changed;
}

export interface Drift {
  changed: string[];
  missing: string[];
  extra: string[];
}

export function compareArtifacts(dir: string, artifacts: Artifacts): Drift {
  const drift: Drift = { changed: [], missing: [], extra: [] };
  for (const [rel, content] of artifacts) {
    const current = readOrUndefined(join(dir, rel));
    if (current === undefined) drift.missing.push(rel);
    else if (current !== content) drift.changed.push(rel);
  }
  for (const rel of listFiles(dir)) if (!artifacts.has(rel)) drift.extra.push(rel);
  return drift;
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function listFiles(dir: string, root = dir): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path, root) : [relative(root, path)];
  });
}
