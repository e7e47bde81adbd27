/**
 * One supported Node.js: the oldest version package.json's `engines` allows is the
 * one the README names, and every locked package (dependencies of dependencies
 * included) accepts it, so `npm ci` prints no EBADENGINE warning on it.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { repoPath } from "../../src/paths.js";

type Version = [number, number, number];

function parseVersion(text: string): { v: Version; parts: number } {
  const m = /^v?(\d+)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?/.exec(text.trim());
  if (!m) throw new Error(`not a version: ${text}`);
  const nums = [m[1], m[2], m[3]].filter((p) => p !== undefined && /^\d+$/.test(p)).map(Number);
  return { v: [nums[0] ?? 0, nums[1] ?? 0, nums[2] ?? 0], parts: nums.length };
}

function compare(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  return 0;
}

/** The first version above a partial one: 20 -> 21.0.0, 20.19 -> 20.20.0. */
function bump(v: Version, parts: number): Version {
  if (parts <= 1) return [v[0] + 1, 0, 0];
  if (parts === 2) return [v[0], v[1] + 1, 0];
  return [v[0], v[1], v[2] + 1];
}

/** Does `version` satisfy one comparator of an npm range (>=, >, <, <=, ^, ~, =, or a partial version)? */
function satisfiesComparator(version: Version, comparator: string): boolean {
  const m = /^(>=|<=|>|<|\^|~|=)?\s*(.+)$/.exec(comparator);
  if (!m) throw new Error(`not a comparator: ${comparator}`);
  const op = m[1] ?? "";
  const { v, parts } = parseVersion(m[2] as string);
  const c = compare(version, v);
  switch (op) {
    case ">=":
      return c >= 0;
    case ">":
      return parts === 3 ? c > 0 : compare(version, bump(v, parts)) >= 0;
    case "<":
      return c < 0;
    case "<=":
      return parts === 3 ? c <= 0 : compare(version, bump(v, parts)) < 0;
    case "^": {
      const upper: Version = v[0] > 0 ? [v[0] + 1, 0, 0] : [0, v[1] + 1, 0];
      return c >= 0 && compare(version, upper) < 0;
    }
    case "~":
      return c >= 0 && compare(version, bump(v, Math.min(parts, 2))) < 0;
    default:
      return c >= 0 && compare(version, bump(v, parts)) < 0;
  }
}

function satisfies(version: string, range: string): boolean {
  const v = parseVersion(version).v;
  return range.split("||").some((alt) => {
    const comparators = alt
      .trim()
      .replace(/(>=|<=|>|<|\^|~|=)\s+/g, "$1")
      .split(/\s+/)
      .filter((c) => c !== "" && c !== "*" && c !== "x");
    return comparators.every((c) => satisfiesComparator(v, c));
  });
}

const pkg = JSON.parse(readFileSync(repoPath("package.json"), "utf8")) as { engines: { node: string } };
const oldest = /^>=\s*(\d+\.\d+\.\d+)$/.exec(pkg.engines.node)?.[1];

describe("the supported Node.js", () => {
  it("the range checker reads npm ranges as npm does", () => {
    assert.equal(satisfies("20.19.0", ">=22.12.0"), false);
    assert.equal(satisfies("22.12.0", ">=22.12.0"), true);
    assert.equal(satisfies("20.19.0", "^20.19.0 || >=22.12.0"), true);
    assert.equal(satisfies("20.18.1", "^20.19.0 || >=22.12.0"), false);
    assert.equal(satisfies("20.19.0", "18 || 20 || >=22"), true);
    assert.equal(satisfies("21.1.0", "18 || 20 || >=22"), false);
    assert.equal(satisfies("20.19.0", ">=12 <13 || >=14"), true);
    assert.equal(satisfies("20.19.0", "~20.18"), false);
    assert.equal(satisfies("20.19.0", ">= 10.13.0"), true);
    assert.equal(satisfies("20.19.0", "*"), true);
  });

  it("package.json names its oldest Node.js as >=X.Y.Z", () => {
    assert.ok(oldest, `package.json engines.node is "${pkg.engines.node}"; write it as ">=X.Y.Z"`);
  });

  it("the README names the same Node.js as package.json", () => {
    const readme = readFileSync(repoPath("README.md"), "utf8");
    const named = /Node\.js (\d+(?:\.\d+)*)( or newer)?/.exec(readme);
    assert.ok(named, "the README names no Node.js version");
    assert.equal(`${named[1]}${named[2] ?? ""}`, `${oldest?.replace(/\.0$/, "")} or newer`);
  });

  it("every locked package accepts that Node.js", () => {
    const lock = JSON.parse(readFileSync(repoPath("package-lock.json"), "utf8")) as {
      packages: Record<string, { engines?: unknown; optional?: boolean; version?: string }>;
    };
    const refused: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      const engines = entry.engines;
      if (!engines || typeof engines !== "object" || Array.isArray(engines)) continue;
      const node = (engines as Record<string, unknown>).node;
      if (typeof node !== "string" || path === "") continue;
      if (!satisfies(oldest ?? "0.0.0", node)) refused.push(`${path}@${entry.version}: node ${node}`);
    }
    assert.deepEqual(refused, [], `these packages refuse Node.js ${oldest}`);
  });
});
