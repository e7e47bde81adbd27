/**
 * Where `npm run build` leaves the Video Chat JupyterLab extension
 * (extensions/videochat), for the prerequisite check and the videochat component.
 * The hub JSON's videochat section is target-neutral: ../hub-settings-parts.ts.
 */
import { existsSync } from "node:fs";
import { posix } from "node:path";
import { repoPath } from "../../paths.js";

/** The extension as `npm run build` leaves it: package.json (naming its entry point) and static/. */
export function videoChatBuild(): string {
  return repoPath("extensions", "videochat", "labextension");
}

export function videoChatBuilt(): boolean {
  return existsSync(posix.join(videoChatBuild(), "package.json"));
}
