import { readFileSync } from "node:fs";
import { repoPath } from "../paths.js";

export function version(): string {
  const pkg = JSON.parse(readFileSync(repoPath("package.json"), "utf8")) as { version: string };
  return pkg.version;
}
