/**
 * Property tests for config validation: valid configs mutated at random (wrong
 * types, unknown keys, bad sizes, broken references, odd Unicode, huge values,
 * deleted keys) never crash validation, every problem is located in the file, and
 * nothing is rendered from an invalid file. The number of cases is printed.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import fc from "fast-check";
import { parse, stringify } from "yaml";
import { run as render } from "../../src/cli/commands/render.js";
import { validateText } from "../../src/config/load.js";
import { AtriumError } from "../../src/errors.js";
import { repoPath } from "../../src/paths.js";

const RUNS = Number(process.env.ATRIUM_FUZZ_RUNS ?? 2000);
const base = parse(readFileSync(repoPath("examples", "team.yaml"), "utf8")) as Record<string, unknown>;

type Json = unknown;

/** Every path to a value in the document, for picking what to mutate. */
function paths(value: Json, prefix: Array<string | number> = []): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = [prefix];
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) out.push(...paths(v, [...prefix, i]));
  } else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...prefix, k]));
  }
  return out;
}

const allPaths = paths(base).filter((p) => p.length > 0);

const oddStrings = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom(
    "8Gb",
    "-1",
    "1e309",
    "ß",
    "\u202e",
    "a\u0000b",
    "  ",
    "root",
    "nobody",
    "../etc",
    "3.1",
    "yes",
    "~",
  ),
  fc.string({ maxLength: 3000 }),
);

const replacement: fc.Arbitrary<Json> = fc.oneof(
  oddStrings,
  fc.integer(),
  fc.double(),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, -0, 1e300, 2 ** 64),
  fc.boolean(),
  fc.constant(null),
  fc.array(oddStrings, { maxLength: 4 }),
  fc.dictionary(fc.string({ maxLength: 12 }), oddStrings, { maxKeys: 3 }),
);

type Mutation =
  | { kind: "replace"; at: number; value: Json }
  | { kind: "delete"; at: number }
  | { kind: "unknown-key"; at: number; key: string; value: Json }
  | { kind: "broken-reference"; group: string };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("replace" as const), at: fc.nat(allPaths.length - 1), value: replacement }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat(allPaths.length - 1) }),
  fc.record({
    kind: fc.constant("unknown-key" as const),
    at: fc.nat(allPaths.length - 1),
    key: fc.string({ minLength: 1, maxLength: 20 }),
    value: replacement,
  }),
  fc.record({
    kind: fc.constant("broken-reference" as const),
    group: fc.string({ minLength: 1, maxLength: 10 }),
  }),
);

function apply(doc: Record<string, unknown>, m: Mutation): void {
  // An earlier mutation may have replaced part of the path; then there is nothing to mutate.
  const parentOf = (path: Array<string | number>): Record<string | number, Json> | undefined => {
    let node: Json = doc;
    for (const seg of path.slice(0, -1)) {
      if (node === null || typeof node !== "object") return undefined;
      node = (node as Record<string | number, Json>)[seg];
    }
    return node !== null && typeof node === "object" ? (node as Record<string | number, Json>) : undefined;
  };
  if (m.kind === "broken-reference") {
    const first = Array.isArray(doc.users) ? (doc.users[0] as { groups?: unknown } | undefined) : undefined;
    if (first && Array.isArray(first.groups)) first.groups.push(`zz-${m.group}`);
    return;
  }
  const path = allPaths[m.at] ?? [];
  const parent = parentOf(path);
  const key = path[path.length - 1] ?? "";
  if (parent === undefined) return;
  if (m.kind === "replace") parent[key] = m.value;
  else if (m.kind === "delete") {
    if (Array.isArray(parent) && typeof key === "number") parent.splice(key, 1);
    else delete parent[key];
  } else {
    const target = parent[key];
    if (target !== null && typeof target === "object" && !Array.isArray(target)) {
      (target as Record<string, Json>)[m.key] = m.value;
    }
  }
}

let cases = 0;
let invalid = 0;
const dir = mkdtempSync(join(tmpdir(), "atrium-fuzz-"));
after(() => {
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`config fuzzing: ${cases} mutated configs validated, ${invalid} of them invalid\n`);
});

describe("config fuzzing", () => {
  it(`validation never crashes and locates every problem (${RUNS} cases)`, () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
        const doc = structuredClone(base);
        for (const m of mutations) apply(doc, m);
        const text = stringify(doc);
        const lines = text.split("\n").length;
        const loaded = validateText("fuzz.yaml", text);
        cases += 1;
        if (loaded.problems.length > 0) invalid += 1;
        assert.equal(loaded.config === undefined, loaded.problems.length > 0);
        for (const p of loaded.problems) {
          assert.ok(p.line >= 1 && p.line <= lines + 1, `line ${p.line} outside the file`);
          assert.ok(p.col >= 1, `column ${p.col}`);
          assert.ok(p.message.length > 0 && !p.message.includes("undefined"), p.message);
          assert.doesNotMatch(p.message, /\n\s+at /, "a stack trace in a message");
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("never renders anything from an invalid file", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
        const doc = structuredClone(base);
        for (const m of mutations) apply(doc, m);
        const text = stringify(doc);
        if (validateText("fuzz.yaml", text).problems.length === 0) return;
        const file = join(dir, "atrium.yaml");
        const out = join(dir, "rendered");
        writeFileSync(file, text);
        await assert.rejects(render(["-c", file, "-o", out]), AtriumError);
        assert.equal(existsSync(out), false);
      }),
      { numRuns: 200 },
    );
  });

  it("survives raw garbage as YAML text", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 400 }), (text) => {
        const loaded = validateText("garbage.yaml", text);
        cases += 1;
        for (const p of loaded.problems) assert.ok(p.line >= 1 && p.col >= 1);
      }),
      { numRuns: Math.round(RUNS / 3) },
    );
  });
});
