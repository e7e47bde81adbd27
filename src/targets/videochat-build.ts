/**
 * Where `npm run build` leaves the Video Chat JupyterLab extension
 * (extensions/videochat), for the local prerequisite check and videochat component and the
 * kubernetes target's env sources.
 * The hub JSON's videochat section is in hub-settings-parts.ts.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { posix } from "node:path";
import { hashText } from "../lib/hash.js";
import { repoPath } from "../paths.js";

/** The extension as `npm run build` leaves it: package.json (naming its entry point) and static/. */
export function videoChatBuild(): string {
  return repoPath("extensions", "videochat", "labextension");
}

export function videoChatBuilt(): boolean {
  return existsSync(posix.join(videoChatBuild(), "package.json"));
}

/** Every file under root, sorted: the extension's files, for a copy or an archive. */
export function filesUnder(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = posix.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk(root);
  return out.sort();
}

/** One hash of files under root: each file's path below root and content. */
export function filesHash(root: string, files: readonly string[] = filesUnder(root)): string {
  return hashText(files.map((f) => `${f.slice(root.length)}:${hashText(readFileSync(f))}`).join("\n"));
}
