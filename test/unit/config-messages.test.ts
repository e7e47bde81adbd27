/**
 * Properties of config messages that hold across all inputs, beyond the exact
 * text the fixtures pin down: secrets are never repeated, suggested values pass
 * their rule, and no input makes validation throw.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { formatProblems } from "../../src/config/format.js";
import { jsonSchema } from "../../src/config/json-schema.js";
import { validateText } from "../../src/config/load.js";
import { configSchema } from "../../src/config/schema.js";
import { fitsAt } from "../../src/config/schema-keys.js";
import { closest, suggestion } from "../../src/config/suggest.js";
import { parseDuration, parseSize } from "../../src/config/units.js";
import { repoPath } from "../../src/paths.js";

const HEAD = "project:\n  name: sso\n";
const dir = repoPath("test", "fixtures", "configs");

describe("secrets in atrium.yaml", () => {
  const secrets = [
    "GOCSPX-1a2B3c4D5e6F7g8H9i0J",
    "0f3b6d2a9c8e7f1a5b4c3d2e1f0a9b8c7d6e5f4a",
    "80413557291746",
  ];
  for (const secret of secrets) {
    it(`does not repeat ${secret.slice(0, 6)}... given as client_secret_env`, () => {
      const text = `${HEAD}auth:\n  type: oidc\n  preset: github\n  client_id: atrium\n  client_secret_env: ${secret}\n`;
      const out = formatProblems(validateText("a.yaml", text).problems);
      assert.match(out, /looks like a secret/);
      assert.ok(!out.includes(secret));
      assert.ok(!out.includes(secret.slice(0, 12)));
    });
  }
  it("does not repeat an inline client_secret, and says it must go", () => {
    const secret = "s3cr3t-Valu3-9f8e7d";
    const text = `${HEAD}auth:\n  type: oidc\n  preset: github\n  client_id: atrium\n  client_secret: ${secret}\n`;
    const problems = validateText("a.yaml", text).problems;
    assert.deepEqual(
      problems.map((p) => p.message),
      ["the client secret must not be in this file"],
    );
    assert.ok(!formatProblems(problems).includes(secret));
  });
});

describe("suggestions", () => {
  it("never offers the rejected word itself", () => {
    assert.equal(closest("client_id", ["client_id"]), undefined);
    assert.equal(
      suggestion("client_id", ["client_id", "type"], "keys here"),
      "known keys here: client_id, type",
    );
  });
  it("every `try` hint in the fixtures names a value that passes its field's rule", () => {
    let checked = 0;
    for (const f of readdirSync(dir).filter((n) => n.includes(".error.") && n.endsWith(".yaml"))) {
      const { problems } = validateText(f, readFileSync(join(dir, f), "utf8"));
      for (const p of problems) {
        const tried = /^try "([^"]*)"/.exec(p.hint ?? "")?.[1];
        if (tried === undefined) continue;
        checked++;
        assert.ok(fitsAt(configSchema, p.path, tried), `${f}: "${tried}" fails at ${p.path.join(".")}`);
      }
    }
    assert.ok(checked >= 10, `only ${checked} try hints checked`);
  });
});

describe("sizes and durations in the JSON Schema", () => {
  type Node = { properties?: Record<string, Node>; items?: Node; anyOf?: Array<{ pattern?: string }> };
  const at = (node: Node | undefined, ...keys: string[]) =>
    keys.reduce<Node | undefined>((n, k) => (k === "[]" ? n?.items : n?.properties?.[k]), node);
  const schema = jsonSchema() as Node;
  const memLimit = at(schema, "profiles", "[]", "mem_limit")?.anyOf ?? [];
  const maxAge = at(schema, "idle_culler", "max_age")?.anyOf ?? [];
  it("puts the pattern on the text branch", () => {
    assert.equal(typeof memLimit[0]?.pattern, "string");
    assert.equal(typeof maxAge[0]?.pattern, "string");
  });
  it("accepts exactly the text the parser accepts", () => {
    const sizes = ["4G", "512Mi", "1.5Gi", "1024", "4 G", " 4G", "8Gb", "4g", "1.G"];
    const sizeRe = new RegExp(memLimit[0]?.pattern ?? "");
    for (const s of sizes) assert.equal(sizeRe.test(s), parseSize(s) !== undefined, s);
    const durations = ["90s", "30m", "1h", "2d", "3600", " 30 m", "30 m", "1.5h", "1w"];
    const durationRe = new RegExp(maxAge[0]?.pattern ?? "");
    for (const d of durations) assert.equal(durationRe.test(d), parseDuration(d) !== undefined, d);
  });
});

describe("hostile or odd YAML", () => {
  it("reports an alias bomb as a located problem instead of throwing", () => {
    const rows = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (const [name, prev] of [
      ["b", "a"],
      ["c", "b"],
      ["d", "c"],
      ["e", "d"],
      ["f", "e"],
    ]) {
      rows.push(`${name}: &${name} [${Array(10).fill(`*${prev}`).join(",")}]`);
    }
    const problems = validateText("bomb.yaml", `${rows.join("\n")}\n`).problems;
    assert.equal(problems.length, 1);
    assert.match(problems[0]?.message ?? "", /aliases/);
    assert.equal(problems[0]?.line, 2);
  });
  it("never throws, whatever the text", () => {
    const texts = [
      "",
      "---",
      "- - -",
      "{",
      "a: *b",
      "? [a]\n: 1",
      "project: {name: [1]}",
      "\t",
      "%YAML 1.1\n---\na: 1",
    ];
    for (const t of texts) assert.ok(Array.isArray(validateText("x.yaml", t).problems), JSON.stringify(t));
  });
});
