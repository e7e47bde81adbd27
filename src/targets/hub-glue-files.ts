/**
 * The hub glue's files (python/atrium_hub, without compiled caches) and their hash:
 * what every target ships to its hub, and what names that copy.
 */
import { readdirSync, readFileSync } from "node:fs";
import { posix } from "node:path";
import { hashText } from "../lib/hash.js";
import { repoPath } from "../paths.js";

export const GLUE_SOURCE = repoPath("python", "atrium_hub");

/** Every file of the glue, sorted, as absolute paths. */
export function glueFiles(root = GLUE_SOURCE): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.name === "__pycache__") continue;
      const p = posix.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk(root);
  return out.sort();
}

/** Changes when any file of the glue changes, or one is added or removed. */
export function glueHash(root = GLUE_SOURCE): string {
  return hashText(
    glueFiles(root)
      .map((f) => `${f.slice(root.length)}:${hashText(readFileSync(f))}`)
      .join("\n"),
  );
}
