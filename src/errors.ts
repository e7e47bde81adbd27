/**
 * The one error type for expected failures. Anything thrown that is not an
 * AtriumError is a bug, and cli/main.ts says so.
 */
import type { Problem } from "./lib/problem.js";

export type ErrorCode =
  | "usage"
  | "config-invalid"
  | "file-not-found"
  | "file-exists"
  | "prerequisite"
  | "locked"
  | "apply-failed"
  /** The place the platform runs did not answer (a cluster's API server). */
  | "unreachable"
  | "not-found"
  | "not-supported";

export class AtriumError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly hint?: string,
    readonly problems: Problem[] = [],
  ) {
    super(message);
    this.name = "AtriumError";
  }

  /** Exit status for the CLI: 2 for usage errors, 1 for everything else. */
  get exitCode(): number {
    return this.code === "usage" ? 2 : 1;
  }
}
