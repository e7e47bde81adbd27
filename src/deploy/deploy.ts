/**
 * deploy and plan for a loaded config: take the lock, check prerequisites, compare
 * with the state, apply what changed. Nothing is touched before the checks pass.
 */
import type { Config } from "../config/schema.js";
import { localTarget } from "../targets/local/target.js";
import type { Change } from "./change.js";
import { applyChanges, planChanges, type Reporter } from "./engine.js";
import { acquireLock } from "./lock.js";
import { loadState } from "./state.js";

export function plan(config: Config, configFile: string): Change[] {
  const target = localTarget(config, configFile);
  const state = loadState(target.stateDir, target.platform.project.name);
  return planChanges(target.components, state);
}

export async function deploy(config: Config, configFile: string, reporter: Reporter): Promise<Change[]> {
  const target = localTarget(config, configFile);
  await target.preflight();
  // Everything deploy makes (envs, config) must be readable by the users.
  process.umask(0o022);
  const { mkdirSync } = await import("node:fs");
  mkdirSync(target.stateDir, { recursive: true, mode: 0o700 });
  const release = acquireLock(target.stateDir);
  try {
    const state = loadState(target.stateDir, target.platform.project.name);
    const changes = planChanges(target.components, state);
    await applyChanges(target.components, changes, { stateDir: target.stateDir, state, reporter });
    return changes;
  } finally {
    release();
  }
}
