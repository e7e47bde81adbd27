/**
 * The import check the test command runs (scripts/check-imports.ts): the real rule
 * on small trees written here. A back-import, a CLI reaching into a target's folder,
 * a service importing a target and a cycle are each reported; a tree that keeps the
 * rule gives nothing. (The test command runs the same check on src/ itself.)
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import { checkImports } from "../../scripts/import-graph.js";
import { IMPORT_RULE } from "../../scripts/import-rule.js";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A tree of files (path -> modules it imports, as written in an import). */
function tree(files: Record<string, string[]>): string {
  const base = mkdtempSync(join(tmpdir(), "atrium-imports-"));
  dirs.push(base);
  for (const [path, imports] of Object.entries(files)) {
    mkdirSync(dirname(join(base, path)), { recursive: true });
    const lines = imports.map((m, i) => `import { x${i} } from "${m}";`);
    writeFileSync(join(base, path), `${lines.join("\n")}\nexport const x = 1;\n`);
  }
  return base;
}

/** A small tree that keeps the rule, to which each test adds one import. */
const GOOD: Record<string, string[]> = {
  "src/cli/commands/deploy.ts": ["../../deploy/deploy.js", "../../config/load.js"],
  "src/cli/commands/service.ts": ["../../services/ssh/main.js"],
  "src/deploy/deploy.ts": ["../targets/registry.js", "../targets/target.js", "../lib/hash.js"],
  "src/targets/registry.ts": ["./local/target.js", "../errors.js"],
  "src/targets/target.ts": ["../model/platform.js"],
  "src/targets/local/target.ts": ["../target.js", "./render.js", "../../contracts/ssh.js"],
  "src/targets/local/render.ts": ["../../model/platform.js", "../../lib/stable-json.js"],
  "src/model/platform.ts": ["../config/schema.js"],
  "src/config/schema.ts": ["../lib/units.js"],
  "src/config/load.ts": ["./schema.js"],
  "src/contracts/ssh.ts": ["../lib/units.js"],
  "src/services/ssh/main.ts": ["../../contracts/ssh.js", "../../errors.js"],
  "src/lib/hash.ts": ["./stable-json.js"],
  "src/lib/stable-json.ts": [],
  "src/lib/units.ts": [],
  "src/errors.ts": [],
};

const check = (extra: Record<string, string[]>) =>
  checkImports(tree({ ...GOOD, ...extra }), "src", IMPORT_RULE).map((v) => `${v.kind}: ${v.message}`);

describe("the import rule", () => {
  it("holds for a tree that follows it", () => {
    assert.deepEqual(check({}), []);
  });

  it("reports a target importing the deploy layer back", () => {
    assert.deepEqual(
      check({ "src/targets/local/render.ts": ["../../model/platform.js", "../../deploy/deploy.js"] }),
      [
        "layer: src/targets/local/render.ts (targets) imports src/deploy/deploy.ts (deploy); targets may import seam, model, contracts, config, lib",
        "cycle: import cycle: src/deploy/deploy.ts -> src/targets/local/render.ts -> src/targets/local/target.ts -> src/targets/registry.ts",
      ],
    );
  });

  it("reports the CLI reaching into a target's folder, past the registry", () => {
    assert.deepEqual(check({ "src/cli/commands/status.ts": ["../../targets/local/render.js"] }), [
      "layer: src/cli/commands/status.ts (cli) imports src/targets/local/render.ts (targets); cli may import deploy, registry, model, contracts, config, services, lib",
    ]);
  });

  it("reports a service importing a target, and the lib importing config", () => {
    assert.deepEqual(
      check({
        "src/services/ssh/main.ts": ["../../targets/local/render.js"],
        "src/lib/units.ts": ["../config/schema.js"],
      }),
      [
        "layer: src/lib/units.ts (lib) imports src/config/schema.ts (config); lib may import nothing",
        "layer: src/services/ssh/main.ts (services) imports src/targets/local/render.ts (targets); services may import contracts, lib",
        "cycle: import cycle: src/config/schema.ts -> src/lib/units.ts",
      ],
    );
  });

  it("reports a cycle inside one folder, and a file in no layer", () => {
    assert.deepEqual(
      check({
        "src/targets/local/a.ts": ["./b.js"],
        "src/targets/local/b.ts": ["./a.js"],
        "src/elsewhere.ts": [],
      }),
      [
        "unassigned: src/elsewhere.ts is in no layer of the import rule",
        "cycle: import cycle: src/targets/local/a.ts -> src/targets/local/b.ts",
      ],
    );
  });

  it("counts type-only imports, re-exports and dynamic imports", () => {
    const base = tree(GOOD);
    writeFileSync(
      join(base, "src/targets/local/render.ts"),
      'import type { A } from "../../deploy/deploy.js";\nexport { B } from "../../cli/commands/deploy.js";\nconst c = () => import("../../deploy/deploy.js");\n',
    );
    const found = checkImports(base, "src", IMPORT_RULE).filter((v) => v.kind === "layer");
    assert.deepEqual(
      found.map((v) => v.message.split(";")[0]),
      [
        "src/targets/local/render.ts (targets) imports src/deploy/deploy.ts (deploy)",
        "src/targets/local/render.ts (targets) imports src/cli/commands/deploy.ts (cli)",
      ],
    );
  });
});
