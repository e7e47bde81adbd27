/**
 * Step 5 of a build compiles bytecode as root. A symlink the build account left in
 * site-packages (a `__pycache__` pointing elsewhere, a module pointing at a
 * root-only file) must not make root write or read where it points.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { compileBytecode } from "../../src/services/envs/builder.js";

const PYTHON = "/usr/bin/python3";

describe("bytecode of a finished environment", () => {
  const root = mkdtempSync(join(tmpdir(), "atrium-bytecode-"));
  after(() => rmSync(root, { recursive: true, force: true }));

  function build(name: string): { dir: string; site: string; log: string[] } {
    const dir = join(root, name);
    const site = join(dir, "env", "lib", "python3.11", "site-packages");
    mkdirSync(site, { recursive: true });
    writeFileSync(join(site, "plain.py"), "X = 1\n");
    return { dir, site, log: [] };
  }

  const compile = (b: { dir: string; log: string[] }) =>
    compileBytecode({
      dir: b.dir,
      python: PYTHON,
      cacheDir: root,
      passEnv: {},
      log: (t) => b.log.push(t),
      signal: new AbortController().signal,
    });

  it("compiles an environment without links", async () => {
    const b = build("clean");
    await compile(b);
    assert.match(readdirSync(join(b.site, "__pycache__")).join(","), /^plain\.cpython-\d+\.pyc$/);
  });

  it("writes nothing through a __pycache__ link", async () => {
    const b = build("linked-cache");
    const target = join(root, "target-cache");
    mkdirSync(target, { mode: 0o700 });
    symlinkSync(target, join(b.site, "__pycache__"));
    await compile(b);
    assert.deepEqual(readdirSync(target), []);
    assert.match(b.log.join(""), /bytecode not compiled: .*__pycache__ is a symlink/);
  });

  it("reads nothing through a module link", async () => {
    const b = build("linked-module");
    const target = join(root, "target-module");
    mkdirSync(target, { mode: 0o700 });
    writeFileSync(join(target, "secret.py"), "TOKEN = 'root only'\n", { mode: 0o600 });
    symlinkSync(join(target, "secret.py"), join(b.site, "secret.py"));
    await compile(b);
    assert.deepEqual(readdirSync(b.site).sort(), ["plain.py", "secret.py"]);
  });
});
