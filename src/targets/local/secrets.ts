/**
 * The platform's secrets on this machine: generated once by deploy into root-only
 * (0600) files under <data_dir>/secrets, referenced by name everywhere else.
 */
import { posix } from "node:path";
import type { Platform } from "../../model/platform.js";
import type { SecretSpec } from "../../model/secrets.js";
import type { LocalPlacement } from "./placement.js";

export type { SecretSpec } from "../../model/secrets.js";

export function secretSpecs(platform: Platform): SecretSpec[] {
  return platform.secrets;
}

export function secretPath(placement: LocalPlacement, name: string): string {
  return posix.join(placement.paths.secretsDir, name);
}
