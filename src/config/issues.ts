/**
 * Turns zod's validation issues into problems a person can act on: the value
 * quoted, the rule stated, the fix suggested. One mistake gives one problem:
 * overlapping issues about the same value are merged here. Pure.
 */
import type { z } from "zod";
import { envNameProblem, hostHint, nameHint, quoteHint, SECRET_HINT, sectionHint } from "./hints.js";
import type { ConfigPath, UnlocatedProblem } from "./problem.js";
import { CONFIG_VERSION, configSchema, OIDC_PRESETS, PLANNED_TARGETS, SUPPORTED_TARGETS } from "./schema.js";
import { keysAt, variantsWithKey } from "./schema-keys.js";
import { closest, didYouMean, editDistance, suggestion } from "./suggest.js";
import { kind, quote } from "./text.js";
import { durationHint, sizeHint } from "./units.js";

type Issue = z.core.$ZodIssue;

export interface IssueContext {
  /** The data as read from the file. */
  data: unknown;
  /** A scalar exactly as written in the file (3.10 rather than 3.1), when known. */
  written?: (path: ConfigPath) => string | undefined;
}

interface Ctx extends IssueContext {
  /** Unknown keys by the path of their mapping, to recognise a misspelled required key. */
  unknown: Map<string, string[]>;
}

export function valueAt(data: unknown, path: ConfigPath): unknown {
  let v: unknown = data;
  for (const seg of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}

export function issuePath(issue: Issue): ConfigPath {
  return issue.path.filter((p): p is string | number => typeof p !== "symbol");
}

const pathKey = (path: ConfigPath) => JSON.stringify(path);
const same = (a: ConfigPath, b: ConfigPath) => pathKey(a) === pathKey(b);

const EXPECTED: Record<string, string> = {
  string: "text",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  array: "a list",
  object: "a mapping",
};

const SIZE_ADVICE_RE = /^not a (size|duration)$/;

/** All problems for a list of issues, with overlapping ones merged. */
export function issuesToProblems(issues: readonly Issue[], context: IssueContext): UnlocatedProblem[] {
  const kept = tightestBounds(issues);
  const unknown = new Map<string, string[]>();
  for (const issue of kept) {
    if (issue.code !== "unrecognized_keys") continue;
    const k = pathKey(issuePath(issue));
    unknown.set(k, [...(unknown.get(k) ?? []), ...issue.keys]);
  }
  const ctx: Ctx = { ...context, unknown };
  const out: UnlocatedProblem[] = [];
  for (const issue of kept) out.push(...issueToProblems(issue, ctx));
  return out;
}

/**
 * Integers carry zod's own safe-integer bounds besides ours; when both fail for
 * one value, the field's own bound is the one worth stating.
 */
function tightestBounds(issues: readonly Issue[]): Issue[] {
  const huge = (i: Issue) =>
    (i.code === "too_big" && Number(i.maximum) >= Number.MAX_SAFE_INTEGER) ||
    (i.code === "too_small" && Number(i.minimum) <= Number.MIN_SAFE_INTEGER);
  return issues.filter(
    (i) =>
      !huge(i) ||
      !issues.some((o) => o !== i && o.code === i.code && !huge(o) && same(issuePath(o), issuePath(i))),
  );
}

function issueToProblems(issue: Issue, ctx: Ctx): UnlocatedProblem[] {
  const path = issuePath(issue);
  const value = valueAt(ctx.data, path);
  const field = path[path.length - 1];
  if (SIZE_ADVICE_RE.test(issue.message)) return [unitProblem(path, value, issue.message === "not a size")];
  if (same(path, ["version"])) return [versionProblem(path, value)];
  if (same(path, ["auth", "client_secret_env"]) && value !== undefined) return [envNameProblem(path, value)];
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((key) => unknownKey(path, key, ctx));
    case "invalid_type":
      if (value === undefined && same(path, ["target", "storage"])) {
        return missingKey(path, ctx, "add storage: with one of storage_class (and size), nfs or host_path");
      }
      if (value === undefined) return missingKey(path, ctx);
      return [wrongType(path, issue.expected, value, ctx)];
    case "invalid_value":
      if (same(path, ["auth", "preset"])) return [presetProblem(path, value)];
      return [enumProblem(path, value, issue.values)];
    case "invalid_union": {
      if ("discriminator" in issue && issue.discriminator) {
        const isTarget = same(path, ["target", "type"]);
        if (value === undefined && isTarget) return missingKey(path, ctx, "add type: local (this machine)");
        if (isTarget) return [targetProblem(path, value)];
        const options = ((issue as { options?: unknown[] }).options ?? []).map(String);
        if (value === undefined) {
          return missingKey(path, ctx, `add ${options.map((o) => `${String(field)}: ${o}`).join(" or ")}`);
        }
        return [enumProblem(path, value, options)];
      }
      return [{ path, message: `${quote(value)} is not valid here`, hint: unionHint(issue) }];
    }
    case "too_small":
    case "too_big":
    case "invalid_format":
      return [rangeProblem(issue, path, value, ctx)];
    case "invalid_key": {
      // A map's key broke the key's own rule (a node pool's name): say which key and which rule.
      const rule = issue.issues[0]?.message ?? issue.message;
      return [{ path, atKey: true, message: `${quote(field)}: ${rule}` }];
    }
    default:
      return [{ path, message: `${quote(value)}: ${issue.message}` }];
  }
}

function unknownKey(path: ConfigPath, key: string, ctx: Ctx): UnlocatedProblem {
  const at = [...path, key];
  if (same(path, ["auth"]) && key === "client_secret") {
    return {
      path: at,
      atKey: true,
      message: "the client secret must not be in this file",
      hint: SECRET_HINT,
    };
  }
  const here = keysAt(configSchema, path, ctx.data);
  const variants = here.includes(key) ? undefined : variantsWithKey(configSchema, path, key);
  if (variants) {
    const which = variantsText(variants);
    return {
      path: at,
      atKey: true,
      message: `${key} is only used with ${which}`,
      hint: `remove it, or set ${which}`,
    };
  }
  return { path: at, atKey: true, message: `unknown key "${key}"`, hint: unknownKeyHint(path, key, here) };
}

/** A close key here; else a close key of another variant ("port", only used with type: local); else what is known. */
function unknownKeyHint(path: ConfigPath, key: string, here: string[]): string {
  const best = closest(key, keysAt(configSchema, path));
  const variants =
    best === undefined || here.includes(best) ? undefined : variantsWithKey(configSchema, path, best);
  if (best === undefined || variants === undefined) return suggestion(key, here, "keys here");
  return `did you mean "${best}"? it is only used with ${variantsText(variants)}`;
}

const variantsText = (v: { discriminator: string; values: string[] }) =>
  v.values.map((value) => `${v.discriminator}: ${value}`).join(" or ");

/** A required key left out, unless a misspelled key beside it is that key (reported as unknown already). */
function missingKey(path: ConfigPath, ctx: Ctx, hint?: string): UnlocatedProblem[] {
  const key = String(path[path.length - 1]);
  const parent = path.slice(0, -1);
  const near = ctx.unknown.get(pathKey(parent)) ?? [];
  if (near.some((u) => closest(u, [key]) === key)) return [];
  return [
    { path: parent, atKey: true, message: `missing required key "${key}"`, hint: hint ?? `add ${key}: ...` },
  ];
}

function wrongType(path: ConfigPath, expected: string, value: unknown, ctx: Ctx): UnlocatedProblem {
  const problem: UnlocatedProblem = {
    path,
    message: `expected ${EXPECTED[expected] ?? expected}, got ${kind(value)}`,
  };
  const hint = typeHint(path, expected, value, ctx);
  if (hint !== undefined) problem.hint = hint;
  return problem;
}

function typeHint(path: ConfigPath, expected: string, value: unknown, ctx: Ctx): string | undefined {
  const field = path[path.length - 1];
  if (value === null && expected !== "object") {
    return typeof field === "number"
      ? "remove the empty entry, or fill it in"
      : `give ${field} a value, or remove it`;
  }
  switch (expected) {
    case "boolean": {
      if (typeof value === "number") return "write true or false";
      if (typeof value !== "string") return undefined;
      const word = value.trim();
      if (/^(yes|no|on|off|y|n)$/i.test(word)) return `YAML 1.2 reads ${word} as text; write true or false`;
      if (/^(true|false)$/i.test(word)) return `write ${word.toLowerCase()} without quotes`;
      return "write true or false";
    }
    case "number":
    case "int": {
      if (typeof value !== "string") return undefined;
      const text = value.trim();
      if (text !== "" && Number.isFinite(Number(text))) return `write ${text} without quotes`;
      const milli = /^(\d+)m$/.exec(text);
      if (milli && /cpu|cores/.test(String(field))) return `write ${Number(milli[1]) / 1000}`;
      return undefined;
    }
    case "string":
      if (typeof value !== "number" && typeof value !== "boolean") return undefined;
      return quoteHint(path, ctx.written?.(path) ?? String(value), ctx.data);
    case "array":
      if (typeof value === "string") return `write [${value}]`;
      if (value !== null && typeof value === "object")
        return 'write a list: one entry a line, each starting with "- "';
      return undefined;
    case "object":
      if (value === null) {
        return typeof field === "number"
          ? "remove the empty entry, or fill it in"
          : "add its keys on the lines below, indented";
      }
      return sectionHint(path, value, ctx.data);
    default:
      return undefined;
  }
}

function unitProblem(path: ConfigPath, value: unknown, isSize: boolean): UnlocatedProblem {
  const what = isSize ? "a size" : "a duration";
  if (value !== null && typeof value === "object") {
    return { path, message: `expected ${what} such as ${isSize ? "4G" : "30m"}, got ${kind(value)}` };
  }
  const text = String(value);
  return {
    path,
    message: `${quote(value)} is not ${what}`,
    hint: isSize ? sizeHint(text) : durationHint(text),
  };
}

function versionProblem(path: ConfigPath, value: unknown): UnlocatedProblem {
  if (typeof value === "number") {
    if (Number.isInteger(value) && value > CONFIG_VERSION) {
      return {
        path,
        message: `version ${value} is newer than this Atrium reads`,
        hint: `this Atrium reads version ${CONFIG_VERSION}; upgrade Atrium`,
      };
    }
    return {
      path,
      message: `${value} is not a version`,
      hint: `this Atrium reads version ${CONFIG_VERSION}`,
    };
  }
  return {
    path,
    message: `expected a number, got ${kind(value)}`,
    hint: `write version: ${CONFIG_VERSION} (a number)`,
  };
}

function enumProblem(path: ConfigPath, value: unknown, values: readonly unknown[]): UnlocatedProblem {
  const allowed = values.map((v) => JSON.stringify(v)).join(", ");
  const problem: UnlocatedProblem = { path, message: `${quote(value)} is not one of ${allowed}` };
  // The message lists the values already; a hint only when one of them is close.
  const near = typeof value === "string" ? didYouMean(value, values.map(String)) : undefined;
  if (near !== undefined) problem.hint = near;
  return problem;
}

/** Planned targets are accepted by the schema (the rules say "not supported yet") but never offered. */
function targetProblem(path: ConfigPath, value: unknown): UnlocatedProblem {
  const best =
    typeof value === "string" ? closest(value, [...SUPPORTED_TARGETS, ...PLANNED_TARGETS]) : undefined;
  const local = "use type: local (this machine) or kubernetes (an existing cluster)";
  let hint = `${local}; other targets are not supported yet`;
  if (best !== undefined && (SUPPORTED_TARGETS as readonly string[]).includes(best))
    hint = `did you mean "${best}"?`;
  else if (best !== undefined) hint = `did you mean "${best}"? it is not supported yet; ${local}`;
  return { path, message: `${quote(value)} is not a target Atrium knows`, hint };
}

function presetProblem(path: ConfigPath, value: unknown): UnlocatedProblem {
  const presets = OIDC_PRESETS as readonly string[];
  const word = typeof value === "string" ? value.toLowerCase() : "";
  // Only a slip of one letter: "gitlab" is a provider of its own, not a misspelled "github".
  const near = presets.find((p) => editDistance(word, p) <= 1 && p !== value);
  return {
    path,
    message: `${quote(value)} has no preset (presets: ${presets.join(", ")})`,
    hint: near !== undefined ? `did you mean "${near}"?` : "drop preset and set issuer",
  };
}

function unionHint(issue: z.core.$ZodIssueInvalidUnion): string | undefined {
  const expected = issue.errors
    .flat()
    .filter((e) => e.code === "invalid_type")
    .map((e) => EXPECTED[(e as z.core.$ZodIssueInvalidType).expected] ?? "")
    .filter((e) => e !== "");
  return expected.length > 0 ? `expected ${[...new Set(expected)].join(" or ")}` : undefined;
}

function rangeProblem(issue: Issue, path: ConfigPath, value: unknown, ctx: Ctx): UnlocatedProblem {
  if (value === "") return { path, message: "must not be empty" };
  const problem: UnlocatedProblem = { path, message: rangeMessage(issue, value) };
  if (issue.code === "too_small" && issue.origin === "array" && same(path, ["dask", "worker_profiles"])) {
    problem.hint = "add one, e.g. - name: small; the first is the default";
  }
  if (issue.code === "invalid_format" && typeof value === "string") {
    const hint = value.includes("://") ? hostHint(path, value, ctx.data) : nameHint(path, value, ctx.data);
    if (hint !== undefined) problem.hint = hint;
  }
  return problem;
}

function rangeMessage(issue: Issue, value: unknown): string {
  // Our own messages (set in the schema) state the rule; zod's defaults get the bounds spelled out.
  if (!issue.message.startsWith("Too ") && !issue.message.startsWith("Invalid")) {
    return issue.code === "too_small" && issue.origin === "array"
      ? issue.message
      : `${quote(value)}: ${issue.message}`;
  }
  if (issue.code === "too_small") {
    const min = Number(issue.minimum);
    if (issue.origin === "string") return `${quote(value)} is too short: at least ${min} characters`;
    if (issue.origin === "array")
      return min === 1 ? "needs at least one entry" : `needs at least ${min} entries`;
    if (min <= Number.MIN_SAFE_INTEGER) return `${quote(value)} is too small`;
    if (!issue.inclusive) return `${quote(value)} is too small: must be more than ${min}`;
    return `${quote(value)} is too small: the least allowed is ${min}`;
  }
  if (issue.code === "too_big") {
    const max = Number(issue.maximum);
    if (issue.origin === "string") return `${quote(value)} is too long: at most ${max} characters`;
    if (issue.origin === "array") return `has too many entries: at most ${max}`;
    if (max >= Number.MAX_SAFE_INTEGER) return `${quote(value)} is too large`;
    if (!issue.inclusive) return `${quote(value)} is too large: must be less than ${max}`;
    return `${quote(value)} is too large: the most allowed is ${max}`;
  }
  return `${quote(value)} is not valid: ${issue.message}`;
}
