/**
 * Plan and apply. planChanges compares the desired components with the recorded
 * state (and, when asked, looks at what is there, read-only). applyChanges runs only
 * what changed, in order, saving the state through the target's store after each
 * component, and reports progress with elapsed time. A component that left the plan
 * (wanted: false, or no longer built at all) is a delete: its remove() runs when it
 * has one, then it is forgotten.
 */

import { hashOf } from "../lib/hash.js";
import type { Component, Progress, StateEntry } from "../targets/component.js";
import type { DeployState, StateStore } from "../targets/target.js";
import type { Change } from "./change.js";
import { capLines, describeDiff } from "./spec-diff.js";

/** The hash recorded for a component whose apply saved a checkpoint but did not finish. */
export const INCOMPLETE = "incomplete";

export function outlineOf(c: Component): unknown {
  return c.outline ?? c.spec;
}

/** What a create or update changes inside the component, from the outline last applied. */
function detailsOf(c: Component, previous: StateEntry | undefined): string[] {
  if (previous && previous.outline === undefined)
    return ["what was applied before is not on record; applying all of it"];
  if (c.explain) return capLines(c.explain(previous?.outline));
  if (!previous) return [];
  return capLines(describeDiff(previous.outline, outlineOf(c)));
}

/** One component's change, with what changes inside it. */
async function changeOf(c: Component, previous: StateEntry | undefined, check: boolean): Promise<Change> {
  const base = { component: c.name, title: c.title };
  const withDetails = (change: Change): Change => {
    const details = detailsOf(c, previous);
    return details.length ? { ...change, details } : change;
  };
  if (!previous) return withDetails({ ...base, kind: "create" });
  if (previous.hash !== hashOf(c.spec)) return withDetails({ ...base, kind: "update" });
  if (check && c.present && !(await c.present()))
    return { ...base, kind: "update", reason: "missing on disk" };
  return { ...base, kind: "same" };
}

/** `check`: also look at the machine (read-only): what is missing on disk, what deploy will skip. */
export async function planChanges(
  components: readonly Component[],
  state: DeployState,
  check = true,
): Promise<Change[]> {
  const wantedComponents = components.filter((c) => c.wanted !== false);
  // Each component's look at what is there is a read of its own: all at once, in order of the list.
  const changes: Change[] = await Promise.all(
    wantedComponents.map(async (c) => {
      const change = await changeOf(c, state.components[c.name], check);
      const warnings = check ? (c.warnings?.() ?? []) : [];
      return warnings.length ? { ...change, warnings } : change;
    }),
  );
  const wanted = new Set(wantedComponents.map((c) => c.name));
  const known = new Map(components.map((c) => [c.name, c]));
  // Deleted in the reverse order of applying: what depends on a thing goes before it.
  for (const name of Object.keys(state.components).reverse()) {
    if (!wanted.has(name))
      changes.push({ component: name, title: known.get(name)?.title ?? name, kind: "delete" });
  }
  return changes;
}

export function summarize(changes: readonly Change[]): string {
  const count = (k: Change["kind"]) => changes.filter((c) => c.kind === k).length;
  return `${count("create")} to create, ${count("update")} to update, ${count("delete")} to delete, ${count("same")} unchanged`;
}

export interface Reporter {
  start(change: Change): void;
  detail(line: string): void;
  important(line: string): void;
  done(change: Change, seconds: number, note?: string): void;
  failed(change: Change, seconds: number, err: unknown): void;
}

export interface ApplyOptions {
  store: StateStore;
  state: DeployState;
  reporter: Reporter;
}

export async function applyChanges(
  components: readonly Component[],
  changes: readonly Change[],
  opts: ApplyOptions,
): Promise<void> {
  const { state, reporter } = opts;
  const byName = new Map(components.map((c) => [c.name, c]));
  const progress: Progress = { detail: (l) => reporter.detail(l), important: (l) => reporter.important(l) };
  for (const change of changes) {
    if (change.kind === "same") continue;
    const started = Date.now();
    reporter.start(change);
    const elapsed = () => (Date.now() - started) / 1000;
    try {
      if (change.kind === "delete") {
        const previous = state.components[change.component];
        const leaving = byName.get(change.component);
        if (previous && leaving?.remove) await leaving.remove(previous, progress);
        delete state.components[change.component];
        await opts.store.save(state);
        reporter.done(change, elapsed());
        continue;
      }
      const component = byName.get(change.component);
      if (!component) continue;
      const previous = state.components[component.name];
      const checkpoint = async (data: unknown) => {
        // A hash no spec has: the component is still a change for the next plan.
        const entry: StateEntry = {
          hash: INCOMPLETE,
          appliedAt: previous?.appliedAt ?? new Date().toISOString(),
          data,
        };
        if (previous?.outline !== undefined) entry.outline = previous.outline;
        state.components[component.name] = entry;
        await opts.store.save(state);
      };
      const result = await component.apply(previous, { ...progress, checkpoint });
      const entry: StateEntry = {
        hash: hashOf(component.spec),
        appliedAt: new Date().toISOString(),
        outline: outlineOf(component),
      };
      const data = result?.data ?? previous?.data;
      if (data !== undefined) entry.data = data;
      state.components[component.name] = entry;
      await opts.store.save(state);
      reporter.done(change, elapsed(), result?.note);
    } catch (err) {
      reporter.failed(change, elapsed(), err);
      throw err;
    }
  }
}
