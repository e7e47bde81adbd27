/**
 * `atrium upgrade`'s core: an older atrium.yaml rewritten as the current version.
 * The migrations (migrate.ts) say what the data becomes; this module finds, through
 * the parsed YAML Document, where each changed value is written and edits the text
 * only there. Every other byte stays as written: comments, blank lines, indentation,
 * quoting, number spellings. Pure.
 *
 * Must stay true: the text returned reads back as exactly the migrated data (checked
 * here before anything is returned), and a file already current comes back unchanged.
 * The edits are the ones migrations need: a scalar set and a key added to a mapping;
 * a migration needing another kind adds it here.
 */
import { isDeepStrictEqual } from "node:util";
import { isAlias, isMap, isPair, isScalar, type Node, type Pair, stringify, type YAMLMap } from "yaml";
import { AtriumError } from "../errors.js";
import { MIGRATIONS, migrate } from "./migrate.js";
import { type ConfigPath, formatPath } from "./problem.js";
import { CONFIG_VERSION } from "./schema.js";
import { type ConfigSource, parseSource } from "./source.js";
import { quote } from "./text.js";

type Data = Record<string, unknown>;

export interface UpgradeChange {
  /** Where the change is, in the upgraded text (1-based). */
  line: number;
  path: ConfigPath;
  /** `1 -> 2`, `added local`. */
  change: string;
}

export interface Upgrade {
  /** The file's version; equal to `to` when there was nothing to do. */
  from: number;
  to: number;
  text: string;
  changes: UpgradeChange[];
  /** What each migration applied does, oldest first. */
  why: string[];
}

interface Edit {
  at: number;
  /** Characters of the old text replaced, from `at`. */
  length: number;
  text: string;
  path: ConfigPath;
  change: string;
}

const isData = (v: unknown): v is Data => v !== null && typeof v === "object" && !Array.isArray(v);

export function upgradeText(file: string, text: string): Upgrade {
  const src = parseSource(file, text);
  if (src.syntaxProblems.length > 0) {
    throw new AtriumError(
      "config-invalid",
      `${file} is not valid YAML, so it can't be upgraded`,
      "fix the lines named above, then run atrium upgrade again",
      src.syntaxProblems,
    );
  }
  if (!isData(src.data)) {
    throw new AtriumError("config-invalid", `${file} is not an atrium.yaml mapping`, "run atrium validate");
  }
  const given = src.data.version;
  if (given === undefined || given === CONFIG_VERSION) {
    return { from: CONFIG_VERSION, to: CONFIG_VERSION, text, changes: [], why: [] };
  }
  const migrated = migrate(src.data);
  if (migrated.from === undefined) throw notUpgradable(file, given);
  const edits = diffEdits(src, src.data, migrated.data);
  const upgraded = applyEdits(text, edits);
  const check = parseSource(file, upgraded.text);
  if (check.syntaxProblems.length > 0 || !isDeepStrictEqual(check.data, migrated.data)) {
    throw new Error(`the upgraded ${file} does not read back as the migrated data`);
  }
  return {
    from: migrated.from,
    to: CONFIG_VERSION,
    text: upgraded.text,
    changes: upgraded.changes.map((c) => ({ ...c, line: check.lines.linePos(c.at).line })),
    why: MIGRATIONS.filter((m) => m.from >= (migrated.from ?? 0)).map(
      (m) => `${m.from} -> ${m.from + 1}: ${m.why}`,
    ),
  };
}

function notUpgradable(file: string, given: unknown): AtriumError {
  if (typeof given === "number" && Number.isInteger(given) && given > CONFIG_VERSION) {
    return new AtriumError(
      "config-invalid",
      `${file} is version ${given}, newer than this Atrium reads (${CONFIG_VERSION})`,
      "upgrade Atrium instead",
    );
  }
  return new AtriumError(
    "config-invalid",
    `${file} says version ${quote(given)}, which is not a version of atrium.yaml`,
    `versions are 1 to ${CONFIG_VERSION}; run atrium validate`,
  );
}

/** The edits that turn `before` (as written in `src`) into `after`. */
function diffEdits(src: ConfigSource, before: unknown, after: unknown): Edit[] {
  const edits: Edit[] = [];
  const walk = (node: unknown, old: unknown, now: unknown, path: ConfigPath): void => {
    if (isDeepStrictEqual(old, now)) return;
    if (isAlias(node)) throw unsupported(path, "it is written as an alias (*name): write the value out");
    if (isMap(node) && isData(old) && isData(now)) {
      const keys = Object.keys(now);
      for (const key of Object.keys(old))
        if (!(key in now)) throw unsupported([...path, key], "it is removed");
      keys.forEach((key, i) => {
        const child = [...path, key];
        if (key in old) walk(pairOf(node, key)?.value, old[key], now[key], child);
        else edits.push(insertKey(src, node, keys.slice(i + 1), key, now[key], child));
      });
      return;
    }
    if (isScalar(node) && node.range && !isData(now) && !Array.isArray(now)) {
      const [start, end] = node.range;
      edits.push({
        at: start,
        length: end - start,
        text: inline(now),
        path,
        change: `${inline(old)} -> ${inline(now)}`,
      });
      return;
    }
    throw unsupported(path, "it is not a single value or a mapping");
  };
  walk(src.doc.contents, before, after, []);
  return edits;
}

function unsupported(path: ConfigPath, why: string): AtriumError {
  return new AtriumError(
    "not-supported",
    `atrium upgrade can't change ${formatPath(path)} in place: ${why}`,
    "edit that part by hand as the README's config reference shows, then run atrium validate",
  );
}

function pairOf(map: YAMLMap, key: string): Pair | undefined {
  return map.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key);
}

/**
 * `key: value` added before the first of the `later` keys the mapping has (migrations
 * put a new key first), or into an empty `{}`.
 */
function insertKey(
  src: ConfigSource,
  map: YAMLMap,
  later: string[],
  key: string,
  value: unknown,
  path: ConfigPath,
): Edit {
  const pair = `${inline(key)}: ${inline(value)}`;
  const change = `added ${inline(value)}`;
  const next = later.map((k) => pairOf(map, k)).find((p) => p !== undefined);
  const at = (next?.key as Node | undefined)?.range?.[0];
  if (at !== undefined) {
    const eol = src.text.includes("\r\n") ? "\r\n" : "\n";
    const indent = " ".repeat(at - lineStart(src.text, at));
    return { at, length: 0, text: map.flow ? `${pair}, ` : `${pair}${eol}${indent}`, path, change };
  }
  const open = map.range?.[0];
  if (map.flow && map.items.length === 0 && open !== undefined) {
    return { at: open + 1, length: 0, text: pair, path, change };
  }
  throw unsupported(path, "it would go after the mapping's last key");
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf("\n", offset - 1) + 1;
}

/** A value as YAML on one line: a plain or quoted scalar, or a flow collection. */
function inline(value: unknown): string {
  const text = stringify(value, { lineWidth: 0, collectionStyle: "flow" }).trimEnd();
  return text.includes("\n") ? JSON.stringify(value) : text;
}

function applyEdits(
  text: string,
  edits: Edit[],
): { text: string; changes: Array<Omit<UpgradeChange, "line"> & { at: number }> } {
  const sorted = [...edits].sort((a, b) => a.at - b.at);
  let out = "";
  let from = 0;
  const changes: Array<Omit<UpgradeChange, "line"> & { at: number }> = [];
  for (const e of sorted) {
    out += text.slice(from, e.at);
    changes.push({ at: out.length, path: e.path, change: e.change });
    out += e.text;
    from = e.at + e.length;
  }
  return { text: out + text.slice(from), changes };
}
