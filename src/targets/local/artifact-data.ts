/**
 * The data files render produced, read back by the components that apply them, so
 * what deploy does is what the rendered files say (one derivation, not two).
 */
import { type AccountsSpec, accountsSpec } from "../../contracts/accounts.js";
import type { Artifacts } from "../artifacts.js";

export const ACCOUNTS_FILE = "accounts.json";
export const SECRETS_FILE = "secrets.json";
export const SUPERVISOR_FILE = "supervisor.json";

/** A rendered JSON artifact; its absence is a bug in the render, not the user's problem. */
export function artifactJson<T>(artifacts: Artifacts, path: string): T {
  const text = artifacts.get(path);
  if (text === undefined) throw new Error(`the local render has no ${path}`);
  return JSON.parse(text) as T;
}

/** A mode rendered as octal text ("2770"). */
export function modeOf(text: string): number {
  return Number.parseInt(text, 8);
}

/** The rendered accounts.json, as its contract types it. */
export function accountsArtifact(artifacts: Artifacts): AccountsSpec {
  return accountsSpec.parse(artifactJson<unknown>(artifacts, ACCOUNTS_FILE));
}
