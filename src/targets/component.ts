/**
 * A component is one part of the platform that deploy brings in line: a spec (plain
 * data whose hash says whether it changed) and an idempotent apply. Components run
 * in the order given; each may record data in the state for later runs (for example
 * which accounts it created, so destroy --purge removes only those).
 */
export interface StateEntry {
  hash: string;
  appliedAt: string;
  /** What the component chose to remember, e.g. the accounts it created. */
  data?: unknown;
  /** The component's outline when it was applied, so the next plan can say what changes. */
  outline?: unknown;
}

export interface ApplyResult {
  /** One line shown after the component's progress line. */
  note?: string;
  data?: unknown;
}

export interface Progress {
  /** A detail line under the component currently being applied. */
  detail(line: string): void;
  /** A line the person must see even without --verbose (e.g. a generated password). */
  important(line: string): void;
  /**
   * Save `data` in the state at once, for what a deploy killed before apply returns
   * must not forget (e.g. the accounts it is creating). The component stays a change
   * in the plan until its apply returns.
   */
  checkpoint?(data: unknown): Promise<void>;
}

export interface Component {
  name: string;
  /**
   * false: the platform no longer wants this component (it left the plan). Plan shows
   * it as delete when it was applied, and apply calls remove() before forgetting it.
   */
  wanted?: boolean;
  /** What it is, for plan output: "Python env for the hub". */
  title: string;
  spec: unknown;
  /**
   * What plan compares to say what changes inside the component (default: the spec).
   * Recorded in the state, so it must hold no secret values.
   */
  outline?: unknown;
  /** Lines saying what a change does, from the outline last applied (undefined: never applied). */
  explain?(previous: unknown): string[];
  /** What deploy will skip or cannot do, read from the machine without changing it. */
  warnings?(): string[];
  apply(previous: StateEntry | undefined, progress: Progress): Promise<ApplyResult | undefined>;
  /** Cheap check that what was applied is still there; false forces a re-apply. */
  present?(): boolean | Promise<boolean>;
  /** Undo, for components that were applied before and are no longer wanted. */
  remove?(previous: StateEntry, progress: Progress): Promise<void>;
}
