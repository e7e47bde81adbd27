/**
 * deploy, plan and destroy for a loaded config, through the config's target: take
 * the target's lock, run its preflight checks, compare with its state, apply what
 * changed. Nothing is touched before the checks pass.
 */
import type { Config } from "../config/schema.js";
import { AtriumError } from "../errors.js";
import type { Progress } from "../targets/component.js";
import { targetFor } from "../targets/registry.js";
import type { DeployState, PlanPreview, Target } from "../targets/target.js";
import type { Change, Plan } from "./change.js";
import { applyChanges, planChanges, type Reporter } from "./engine.js";

/** The state to plan against: the store's, or its local copy when the store can't be reached. */
async function planState(target: Target): Promise<{ state: DeployState; unreachable?: string }> {
  try {
    return { state: await target.state.load() };
  } catch (err) {
    if (!(err instanceof AtriumError) || err.code !== "unreachable") throw err;
    const copy = target.state.readCopy?.();
    if (copy === undefined) throw err;
    return { state: copy, unreachable: err.message };
  }
}

function withPreview(changes: Change[], preview: PlanPreview): Change[] {
  const found = new Map(preview.components.map((p) => [p.component, p]));
  return changes.map((c) => {
    const p = found.get(c.component);
    if (p === undefined) return c;
    const { component: _component, ...online } = p;
    return { ...c, online };
  });
}

/**
 * Offline: the components against the state (spec hashes). Online, where the target
 * has a preview: what each change does where the platform runs; skipped, saying why,
 * when that place does not answer (the offline step then uses the state's local copy).
 * `onCheck` gets each line of the target's checks (which may refuse).
 */
export async function plan(
  config: Config,
  configFile: string,
  onCheck: (line: string) => void = () => {},
): Promise<Plan> {
  const target = targetFor(config, configFile);
  const { state, unreachable } = await planState(target);
  // the target's checks (which may refuse) need the place the platform runs
  if (unreachable === undefined) for (const line of (await target.checks?.()) ?? []) onCheck(line);
  const components = target.components(state);
  // without the place, nothing there can be checked (present(), warnings())
  const changes = await planChanges(components, state, unreachable === undefined);
  if (!target.preview) return { changes };
  if (unreachable !== undefined)
    return {
      changes,
      online: { ran: false, note: `${unreachable} (the offline step used the local copy of the state)` },
    };
  const preview = await target.preview(changes, components);
  return { changes: withPreview(changes, preview), online: { ran: preview.ran, note: preview.note } };
}

/** Deploys to `target` (the config's, through the registry, when run from the CLI). */
export async function deployTo(target: Target, reporter: Reporter): Promise<Change[]> {
  await target.preflight();
  const unchanged = await nothingToDo(target);
  if (unchanged) return unchanged;
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

/**
 * A deploy with nothing to change, found read-only: the state (read without the lock) matches
 * every component and nobody holds the lock, so no other deploy is halfway. Then there is
 * nothing to lock, check or save, and the deploy writes nothing. Undefined: deploy as usual.
 */
async function nothingToDo(target: Target): Promise<Change[] | undefined> {
  if (target.lock.holder === undefined) return undefined;
  if ((await target.lock.holder()) !== undefined) return undefined;
  const state = await target.state.load();
  const changes = await planChanges(target.components(state), state);
  return changes.every((c) => c.kind === "same") ? changes : undefined;
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
