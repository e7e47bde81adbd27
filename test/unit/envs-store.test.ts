/** The environment store: atomic saves, ids, recovery after a crash, what to prune. */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { EnvStore, type StoredSpec } from "../../src/services/envs/store.js";

const dir = mkdtempSync(join(tmpdir(), "atrium-envs-store-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const spec = (text: string): StoredSpec => ({
  name: "mine",
  text,
  format: "requirements",
  sha256: text,
  requirements: [text],
  constraints: [],
  notes: [],
});

describe("environment store", () => {
  it("starts empty, saves every change atomically in a root-only file, and reads it back", () => {
    const file = join(dir, "a", "state.json");
    const store = new EnvStore(file);
    assert.deepEqual(store.data.environments, []);
    const env = store.createEnvironment("alice", "mine", "", null);
    const build = store.addBuild(env.id, spec("six"), "alice");
    assert.equal(build.status, "QUEUED");
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(join(dir, "a")), ["state.json"]);
    const again = new EnvStore(file);
    assert.equal(again.environment("alice", "mine")?.id, env.id);
    assert.equal(again.build(build.id)?.spec.text, "six");
  });

  it("never reuses ids, also after deletes", () => {
    const store = new EnvStore(join(dir, "ids.json"));
    const e1 = store.createEnvironment("global", "a", "", null);
    const b1 = store.addBuild(e1.id, spec("x"), "ada");
    store.deleteEnvironment(e1.id);
    const e2 = store.createEnvironment("global", "a", "", null);
    const b2 = store.addBuild(e2.id, spec("x"), "ada");
    assert.ok(e2.id > e1.id);
    assert.ok(b2.id > b1.id);
    assert.equal(store.build(b1.id), undefined);
  });

  it("after a crash, fails running builds and keeps queued ones", () => {
    const store = new EnvStore(join(dir, "recover.json"));
    const env = store.createEnvironment("bob", "e", "", null);
    const running = store.addBuild(env.id, spec("a"), "bob");
    const waiting = store.addBuild(env.id, spec("b"), "bob");
    store.updateBuild(running.id, { status: "BUILDING", pgid: 1234 });
    const failed = new EnvStore(join(dir, "recover.json")).recover("2026-01-01T00:00:00.000Z");
    assert.deepEqual(
      failed.map((b) => b.id),
      [running.id],
    );
    const after = new EnvStore(join(dir, "recover.json"));
    assert.equal(after.build(running.id)?.status, "FAILED");
    assert.equal(after.build(running.id)?.pgid, null);
    assert.match(after.build(running.id)?.statusInfo ?? "", /^interrupted/);
    assert.equal(after.build(waiting.id)?.status, "QUEUED");
  });

  it("prunes finished builds beyond the newest N, never the current one or a running one", () => {
    const store = new EnvStore(null);
    const env = store.createEnvironment("alice", "e", "", null);
    const ids = [1, 2, 3, 4, 5].map((i) => store.addBuild(env.id, spec(String(i)), "alice").id);
    for (const id of ids.slice(0, 4)) store.updateBuild(id, { status: "COMPLETED" });
    store.setCurrent(env.id, ids[0] ?? null);
    assert.deepEqual(
      store.prunable(env.id, 2).map((b) => b.id),
      [ids[1]],
    );
    store.updateBuild(ids[4] ?? 0, { status: "FAILED" });
    assert.deepEqual(
      store.prunable(env.id, 2).map((b) => b.id),
      [ids[1], ids[2]],
    );
  });

  it("keeps per-namespace editors, with a default", () => {
    const store = new EnvStore(null);
    assert.equal(store.editors("team", "members"), "members");
    store.setEditors("team", "admins");
    assert.equal(store.editors("team", "members"), "admins");
  });

  it("refuses a store of another version rather than guessing", () => {
    const file = join(dir, "v2.json");
    writeFileSync(file, JSON.stringify({ version: 2 }));
    assert.throws(() => new EnvStore(file), /unknown store version 2/);
    assert.equal(readFileSync(file, "utf8"), JSON.stringify({ version: 2 }));
  });
});
