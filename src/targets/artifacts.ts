/**
 * Rendered artifacts: relative path -> file content. Rendering is deterministic:
 * the same Platform always gives byte-identical artifacts (sorted keys, fixed
 * formatting, no timestamps, no machine-specific paths, secrets as references).
 */
export type Artifacts = Map<string, string>;

/** A reference to a secret kept in a root-only file; the value is never rendered. */
export interface SecretRef {
  secret: string;
}
