/**
 * Config format migrations: small pure functions from one version to the next,
 * on the data as read from the file (never mutated). A file without `version` is
 * taken as the current version. `atrium upgrade` writes their result back into the
 * file (upgrade.ts); loading an older file refuses it and says so (load.ts).
 */
import { CONFIG_VERSION } from "./schema.js";

type Data = Record<string, unknown>;

export interface Migration {
  from: number;
  run: (old: Data) => Data;
  /** What changed in the format, as `atrium upgrade` tells it. */
  why: string;
}

const isData = (v: unknown): v is Data => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * 1 -> 2: `target` became one block per kind of target, picked by `type`. Version 1
 * took a block without `type` as local; version 2 needs `type` in every block.
 */
export function targetTypeRequired(old: Data): Data {
  const target = old.target;
  if (!isData(target) || target.type !== undefined) return old;
  return { ...old, target: { type: "local", ...target } };
}

export const MIGRATIONS: Migration[] = [
  { from: 1, run: targetTypeRequired, why: "a target block names its type (type: local for this machine)" },
];

export interface Migrated {
  data: Data;
  /** The older version the data was migrated from; undefined when no migration ran. */
  from?: number;
}

export function migrate(data: Data, migrations: Migration[] = MIGRATIONS): Migrated {
  const given = data.version ?? CONFIG_VERSION;
  if (typeof given !== "number") return { data };
  let version = given;
  let current = data;
  for (;;) {
    const step = migrations.find((m) => m.from === version);
    if (!step) break;
    current = step.run(current);
    version = version + 1;
    current = { ...current, version };
  }
  return version === given ? { data } : { data: current, from: given };
}
