/**
 * Turns zod's validation issues into problems a person can act on: the value
 * quoted, the rule stated, the fix suggested. Pure.
 */
import type { z } from "zod";
import type { ConfigPath, UnlocatedProblem } from "./problem.js";
import { configSchema } from "./schema.js";
import { keysAt } from "./schema-keys.js";
import { suggestion } from "./suggest.js";
import { sizeHint } from "./units.js";

export function valueAt(data: unknown, path: ConfigPath): unknown {
  let v: unknown = data;
  for (const seg of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}

/** A short quotation of a value for messages: "8Gb", 42, true, a list, a mapping. */
export function quote(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (v === null) return "null (empty)";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return String(v);
}

function kind(v: unknown): string {
  if (v === null) return "nothing";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  if (typeof v === "string") return `the text ${quote(v)}`;
  if (typeof v === "number") return Number.isInteger(v) ? `the number ${v}` : `the number ${v}`;
  return `${typeof v} ${String(v)}`;
}

const EXPECTED: Record<string, string> = {
  string: "text",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  array: "a list",
  object: "a mapping",
};

export function issueToProblems(issue: z.core.$ZodIssue, data: unknown): UnlocatedProblem[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
  const value = valueAt(data, path);
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((key) => ({
        path: [...path, key],
        atKey: true,
        message: `unknown key "${key}"`,
        hint: suggestion(key, keysAt(configSchema, path), "keys here"),
      }));
    case "invalid_type": {
      if (value === undefined) {
        const key = path[path.length - 1];
        return [
          {
            path: path.slice(0, -1),
            atKey: true,
            message: `missing required key "${String(key)}"`,
            hint: `add ${String(key)}: ...`,
          },
        ];
      }
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      const problem: UnlocatedProblem = { path, message: `expected ${expected}, got ${kind(value)}` };
      if (issue.expected === "boolean" && typeof value === "string") problem.hint = "write true or false, unquoted";
      if (issue.expected === "number" && typeof value === "string" && !Number.isNaN(Number(value))) {
        problem.hint = `write ${value} without quotes`;
      }
      if (issue.expected === "array" && typeof value === "string") problem.hint = `write [${value}]`;
      return [problem];
    }
    case "invalid_value": {
      const allowed = issue.values.map((v) => JSON.stringify(v)).join(", ");
      if (path.length === 1 && path[0] === "version") {
        return [
          {
            path,
            message: `version ${quote(value)} is not a version this Atrium reads`,
            hint: "this Atrium reads version 1; upgrade Atrium for newer files",
          },
        ];
      }
      const best = typeof value === "string" ? suggestion(value, issue.values.map(String), "values") : undefined;
      return [{ path, message: `${quote(value)} is not one of ${allowed}`, hint: best }];
    }
    case "invalid_union": {
      if ("discriminator" in issue && issue.discriminator) {
        const options = (issue as { options?: unknown[] }).options ?? [];
        const p = [...path];
        const v = valueAt(data, p);
        if (v === undefined) {
          return [{ path: p.slice(0, -1), atKey: true, message: `missing required key "${issue.discriminator}"` }];
        }
        return [
          {
            path: p,
            message: `${quote(v)} is not one of ${options.map((o) => JSON.stringify(o)).join(", ")}`,
            hint: typeof v === "string" ? suggestion(v, options.map(String), "values") : undefined,
          },
        ];
      }
      return [{ path, message: `${quote(value)} is not valid here`, hint: unionHint(issue) }];
    }
    case "custom":
      if (issue.message === "not a size") {
        return [{ path, message: `${quote(value)} is not a size`, hint: sizeHint(String(value)) }];
      }
      if (issue.message === "not a duration") {
        return [
          {
            path,
            message: `${quote(value)} is not a duration`,
            hint: "use a whole number with s, m, h or d, e.g. 90s, 30m, 1h",
          },
        ];
      }
      return [{ path, message: issue.message }];
    case "too_small":
    case "too_big":
    case "invalid_format": {
      const problem: UnlocatedProblem = { path, message: rangeMessage(issue, value) };
      if (typeof value === "string" && value !== value.toLowerCase()) problem.hint = `try "${value.toLowerCase()}"`;
      return [problem];
    }
    default:
      return [{ path, message: `${quote(value)}: ${issue.message}` }];
  }
}

function unionHint(issue: z.core.$ZodIssueInvalidUnion): string | undefined {
  const expected = issue.errors
    .flat()
    .filter((e) => e.code === "invalid_type")
    .map((e) => EXPECTED[(e as z.core.$ZodIssueInvalidType).expected] ?? "")
    .filter((e) => e !== "");
  return expected.length > 0 ? `expected ${[...new Set(expected)].join(" or ")}` : undefined;
}

function rangeMessage(issue: z.core.$ZodIssue, value: unknown): string {
  // Our own messages (set in the schema) state the rule; zod's defaults get the bounds spelled out.
  if (!issue.message.startsWith("Too ") && !issue.message.startsWith("Invalid")) {
    return `${quote(value)}: ${issue.message}`;
  }
  if (issue.code === "too_small") {
    const min = String(issue.minimum);
    if (issue.origin === "string") return `${quote(value)} is too short: at least ${min} characters`;
    if (issue.origin === "array") return `needs at least ${min} entries`;
    if (!issue.inclusive) return `${quote(value)} is too small: must be more than ${min}`;
    return `${quote(value)} is too small: the least allowed is ${min}`;
  }
  if (issue.code === "too_big") {
    const max = String(issue.maximum);
    if (issue.origin === "string") return `${quote(value)} is too long: at most ${max} characters`;
    if (issue.origin === "array") return `has too many entries: at most ${max}`;
    if (!issue.inclusive) return `${quote(value)} is too large: must be less than ${max}`;
    return `${quote(value)} is too large: the most allowed is ${max}`;
  }
  return `${quote(value)} is not valid: ${issue.message}`;
}
