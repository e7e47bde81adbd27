/**
 * The seam between the deploy engine and a place the platform runs. Every target
 * (local today) implements Target; deploy, plan, status, logs and destroy use
 * nothing else, and the registry (registry.ts) is the only code that picks one.
 * What must stay true of every target: render is pure and deterministic, the
 * components are built from what render produced (so the files rendered are the
 * files applied), and the state store and lock are the target's own.
 */
import type { ApiBuild } from "../contracts/envs-api.js";
import type { Platform } from "../model/platform.js";
import type { Artifacts } from "./artifacts.js";
import type { Component, Progress, StateEntry } from "./component.js";

/** What deploy applied: each component's spec hash and the data it kept. */
export interface DeployState {
  version: 1;
  project: string;
  components: Record<string, StateEntry>;
}

/** Where a target keeps its deploy state (local: a JSON file in the state folder). */
export interface StateStore {
  /** Where it is, for messages ("/var/lib/atrium/state/state.json"). */
  readonly location: string;
  /** The state last saved; an empty one when nothing was deployed. */
  load(): Promise<DeployState>;
  /** Saves atomically, so a deploy killed at any point leaves a state true of what it applied. */
  save(state: DeployState): Promise<void>;
  /**
   * The copy kept here of the state last read or saved, for a plan when load() can't
   * reach the store (an AtriumError "unreachable"); undefined when there is none.
   */
  readCopy?(): DeployState | undefined;
}

/** One deploy (or destroy) at a time. */
export interface DeployLock {
  /**
   * Takes the lock, or throws an AtriumError naming who holds it; returns its release.
   * `create`: make the place the lock lives first (deploy); otherwise a platform never
   * deployed takes no lock (destroy).
   */
  acquire(what: string, create: boolean): Promise<() => Promise<void>>;
  /**
   * Who holds the lock now, read without taking it (undefined: nobody). A target that has
   * it lets a deploy with nothing to change finish without a write (the lock is one).
   */
  holder?(): Promise<string | undefined>;
  /**
   * `atrium unlock`: removes a lock its holder left behind and says what it removed. A lock
   * whose holder may still be working (alive, or renewed lately) is refused unless `force`.
   */
  unlock(force: boolean): Promise<string>;
}

/** Where people reach the platform. */
export interface Endpoint {
  name: string;
  url: string;
}

/** `atrium status`: the report as data (--json) and as lines for a person. */
export interface TargetStatus {
  answering: boolean;
  report: unknown;
  lines: string[];
}

export interface LogOptions {
  lines: number;
  follow: boolean;
  write(text: string): void;
}

/** The environment service's API, with Atrium's admin identity (acting for `user` when given). */
export interface EnvsApi {
  json<T>(method: string, path: string, body?: unknown): Promise<T>;
  text(path: string): Promise<string>;
  follow(build: number, onLog: (text: string) => void): Promise<ApiBuild>;
}

/** One change of plan's offline step (spec hashes against the state), as a target's preview sees it. */
export interface PlannedChange {
  component: string;
  kind: "create" | "update" | "replace" | "delete" | "same";
}

/** What the online step found for one changing component. */
export interface ComponentPreview {
  component: string;
  /** Field by field, what is there now against what the change makes of it. */
  fields: string[];
  /** What the change restarts or affects ("restarts the hub: ..."), one line each. */
  effects: string[];
  /** Why this component could not be previewed, or what the place refuses in it. */
  problem?: string;
}

/** Plan's online step: what the changes do where the platform runs, asked without changing anything. */
export interface PlanPreview {
  /** false: not run at all (note says why, in one line). */
  ran: boolean;
  /** One line: what was asked of where, or why nothing was. */
  note: string;
  components: ComponentPreview[];
}

export interface Target {
  /** The config's target.type this implements. */
  readonly type: string;
  readonly platform: Platform;
  /** The files the platform runs with. Pure: the same platform gives byte-identical artifacts. */
  render(): Artifacts;
  /**
   * The components deploy brings in line, in order, built from render()'s artifacts.
   * A component with `wanted: false` left the plan: plan shows it as delete if it was
   * applied, and apply calls its remove(). `state` is what was applied, so a target can
   * build such components for what left the file (a cluster object to delete).
   */
  components(state?: DeployState): Component[];
  readonly state: StateStore;
  readonly lock: DeployLock;
  /** Checks made before any change; throws one AtriumError listing every problem. */
  preflight(): Promise<void>;
  /**
   * What the place the platform runs offers that the file demands (the kubernetes target:
   * whether the cluster enforces NetworkPolicies), checked at plan and again before deploy
   * changes anything: one line each for the plan's output; throws an AtriumError when one
   * refuses. Leaves the platform's own places untouched.
   */
  checks?(): Promise<string[]>;
  status(): Promise<TargetStatus>;
  /** The names logs() knows, for usage messages. */
  logNames(): string[];
  /** The end of one part's log, following it when asked (until the process is stopped). */
  logs(name: string, options: LogOptions): Promise<void>;
  /** Stops the platform; `purge` also removes its data and the accounts it made. Runs under the lock. */
  destroy(purge: boolean, progress: Progress): Promise<void>;
  endpoints(): Endpoint[];
  /** Hub passwords, where the target keeps them (password login). */
  readonly passwords?: { set(user: string, password: string): Promise<void> };
  /** The environment service's API, where it runs. */
  envs?(actAs?: string): EnvsApi;
  /**
   * Plan's online step, where the target can ask the place it runs (a cluster's
   * server-side dry run): for the changes the offline step found among `components`,
   * what changes field by field and what that restarts or affects. Writes nothing;
   * resolves with `ran: false` and the reason when that place can't be asked.
   */
  preview?(changes: readonly PlannedChange[], components: readonly Component[]): Promise<PlanPreview>;
}
