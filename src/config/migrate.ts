/**
 * Config format migrations: small pure functions from one version to the next.
 * A file without `version` is taken as the current version. Version 1 is the
 * first format, so the list is empty; a future version 2 adds `{ from: 1, run }`.
 */
import type { UnlocatedProblem } from "./problem.js";
import { CONFIG_VERSION } from "./schema.js";

type Data = Record<string, unknown>;

export interface Migration {
  from: number;
  run: (old: Data) => Data;
}

export const MIGRATIONS: Migration[] = [];

export function migrate(
  data: Data,
  migrations: Migration[] = MIGRATIONS,
): { data: Data; problems: UnlocatedProblem[] } {
  const given = data.version ?? CONFIG_VERSION;
  if (typeof given !== "number") return { data, problems: [] };
  let version = given;
  let current = data;
  for (;;) {
    const step = migrations.find((m) => m.from === version);
    if (!step) break;
    current = step.run(current);
    version = version + 1;
    current = { ...current, version };
  }
  return { data: current, problems: [] };
}
