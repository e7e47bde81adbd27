/**
 * Programs named with "@" in rendered commands, resolved on this machine: the proxy
 * from Atrium's own npm dependencies and Atrium itself, both run by this Node.js.
 */
import { createRequire } from "node:module";
import { repoPath } from "../../paths.js";

const require = createRequire(import.meta.url);

export function atriumCommand(): string[] {
  return [process.execPath, repoPath("bin", "atrium.js")];
}

export function proxyCommand(): string[] {
  const pkg = require.resolve("configurable-http-proxy/package.json");
  return [process.execPath, pkg.replace(/package\.json$/, "bin/configurable-http-proxy")];
}

export function resolveProgram(command: readonly string[]): string[] {
  const [first, ...rest] = command;
  if (first === "@configurable-http-proxy") return [...proxyCommand(), ...rest];
  if (first === "@atrium") return [...atriumCommand(), ...rest];
  return [...command];
}
