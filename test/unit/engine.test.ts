import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { Change } from "../../src/deploy/change.js";
import { applyChanges, planChanges, type Reporter, summarize } from "../../src/deploy/engine.js";
import { AtriumError } from "../../src/errors.js";
import { hashOf } from "../../src/lib/hash.js";
import type { Component } from "../../src/targets/component.js";
import { acquireLock, stateDirLock } from "../../src/targets/local/lock-file.js";
import { loadState, saveState, stateFileStore, statePath } from "../../src/targets/local/state-file.js";

const quiet: Reporter = { start() {}, detail() {}, important() {}, done() {}, failed() {} };

function component(name: string, spec: unknown, applied: string[], fail = false): Component {
  return {
    name,
    title: name,
    spec,
    async apply() {
      if (fail) throw new Error(`${name} failed`);
      applied.push(name);
      return { data: { by: name } };
    },
  };
}

describe("deploy engine", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "atrium-engine-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("plans create for everything on a fresh state and same after applying", async () => {
    const applied: string[] = [];
    const components = [component("a", { x: 1 }, applied), component("b", { y: 2 }, applied)];
    const state = loadState(dir, "p");
    const changes = await planChanges(components, state);
    assert.deepEqual(
      changes.map((c) => c.kind),
      ["create", "create"],
    );
    await applyChanges(components, changes, { store: stateFileStore(dir, "p"), state, reporter: quiet });
    assert.deepEqual(applied, ["a", "b"]);
    const again = await planChanges(components, loadState(dir, "p"));
    assert.deepEqual(
      again.map((c) => c.kind),
      ["same", "same"],
    );
    assert.equal(summarize(again), "0 to create, 0 to update, 0 to delete, 2 unchanged");
  });

  it("updates only the changed component and deletes what left the plan", async () => {
    const applied: string[] = [];
    const state = loadState(dir, "p");
    const first = [component("a", 1, applied), component("b", 1, applied), component("c", 1, applied)];
    await applyChanges(first, await planChanges(first, state), {
      store: stateFileStore(dir, "p"),
      state,
      reporter: quiet,
    });
    applied.length = 0;
    const second = [component("a", 1, applied), component("b", 2, applied)];
    const changes = await planChanges(second, loadState(dir, "p"));
    assert.deepEqual(
      changes.map((c: Change) => [c.component, c.kind]),
      [
        ["a", "same"],
        ["b", "update"],
        ["c", "delete"],
      ],
    );
    const s2 = loadState(dir, "p");
    await applyChanges(second, changes, { store: stateFileStore(dir, "p"), state: s2, reporter: quiet });
    assert.deepEqual(applied, ["b"]);
    assert.deepEqual(Object.keys(loadState(dir, "p").components).sort(), ["a", "b"]);
  });

  it("saves the state after each component, so a failure keeps what was done", async () => {
    const applied: string[] = [];
    const components = [
      component("a", 1, applied),
      component("b", 1, applied, true),
      component("c", 1, applied),
    ];
    const state = loadState(dir, "p");
    await assert.rejects(
      applyChanges(components, await planChanges(components, state), {
        store: stateFileStore(dir, "p"),
        state,
        reporter: quiet,
      }),
      /b failed/,
    );
    const saved = loadState(dir, "p");
    assert.deepEqual(Object.keys(saved.components), ["a"]);
    assert.deepEqual(saved.components.a?.data, { by: "a" });
  });

  it("re-applies a component whose result is missing on disk", async () => {
    const c: Component = { ...component("a", 1, []), present: () => false };
    const state = loadState(dir, "p");
    state.components.a = { hash: planHash(c), appliedAt: "" };
    assert.deepEqual((await planChanges([c], state))[0], {
      component: "a",
      title: "a",
      kind: "update",
      reason: "missing on disk",
    });
  });

  it("refuses a state file of another project and a broken one", () => {
    saveState(dir, { version: 1, project: "one", components: {} });
    assert.throws(() => loadState(dir, "two"), /belongs to project "one"/);
    rmSync(statePath(dir));
    writeFileSync(statePath(dir), "{not json");
    assert.throws(() => loadState(dir, "one"), AtriumError);
  });

  it("refuses a second lock holder and takes over a stale lock", () => {
    const release = acquireLock(dir);
    assert.throws(() => acquireLock(dir), /another deploy is running \(pid \d+\)/);
    release();
    writeFileSync(join(dir, "deploy.lock"), "999999999\n");
    const again = acquireLock(dir);
    assert.equal(readFileSync(join(dir, "deploy.lock"), "utf8").trim(), String(process.pid));
    again();
  });

  it("atrium unlock: removes a lock whose process is gone; a running holder's only with --force", async () => {
    const lock = stateDirLock(dir);
    const file = join(dir, "deploy.lock");
    assert.match(await lock.unlock(false), /^no deploy lock to remove/);
    writeFileSync(file, "999999999\n");
    assert.equal(await lock.unlock(false), `removed the deploy lock ${file}, held by pid 999999999`);
    assert.equal(existsSync(file), false);
    const release = await lock.acquire("deploy", true);
    await assert.rejects(lock.unlock(false), /held by pid \d+, which is running/);
    assert.equal(existsSync(file), true);
    assert.match(await lock.unlock(true), /held by pid \d+ \(still running\)$/);
    assert.equal(existsSync(file), false);
    await release();
  });
});

function planHash(c: Component): string {
  return hashOf(c.spec);
}
