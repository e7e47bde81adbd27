/** Where Atrium's own files are: the package root, found from this module's location. */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("Atrium's package.json not found above its modules");
    dir = up;
  }
  return dir;
}

export const PACKAGE_ROOT = findRoot();

export function repoPath(...parts: string[]): string {
  return resolve(PACKAGE_ROOT, ...parts);
}
