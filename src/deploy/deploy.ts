/**
 * deploy, plan and destroy for a loaded config, through the config's target: take
 * the target's lock, run its preflight checks, compare with its state, apply what
 * changed. Nothing is touched before the checks pass.
 */
import type { Config } from "../config/schema.js";
import type { Progress } from "../targets/component.js";
import { targetFor } from "../targets/registry.js";
import type { Target } from "../targets/target.js";
import type { Change } from "./change.js";
import { applyChanges, planChanges, type Reporter } from "./engine.js";

/** The changes deploy would make; `onCheck` gets each line of the target's checks (which may refuse). */
export async function plan(
  config: Config,
  configFile: string,
  onCheck: (line: string) => void = () => {},
): Promise<Change[]> {
  const target = targetFor(config, configFile);
  const state = await target.state.load();
  for (const line of (await target.checks?.()) ?? []) onCheck(line);
  return planChanges(target.components(state), state);
}

/** Deploys to `target` (the config's, through the registry, when run from the CLI). */
export async function deployTo(target: Target, reporter: Reporter): Promise<Change[]> {
  await target.preflight();
  for (const line of (await target.checks?.()) ?? []) reporter.detail(line);
  // Everything deploy makes (envs, config) must be readable by the users.
  process.umask(0o022);
  const release = await target.lock.acquire("deploy", true);
  try {
    const state = await target.state.load();
    const components = target.components(state);
    const changes = await planChanges(components, state);
    await applyChanges(components, changes, { store: target.state, state, reporter });
    return changes;
  } finally {
    await release();
  }
}

export function deploy(config: Config, configFile: string, reporter: Reporter): Promise<Change[]> {
  return deployTo(targetFor(config, configFile), reporter);
}

/** Stops the platform (and with `purge` removes its data), under the deploy lock. */
export async function destroy(target: Target, purge: boolean, progress: Progress): Promise<void> {
  const release = await target.lock.acquire("deploy or destroy", false);
  try {
    await target.destroy(purge, progress);
  } finally {
    await release();
  }
}
