/**
 * What plan says changes inside each component: the generic outline diff, the
 * rendered files' explanation and the processes' restarts, and the whole local
 * target's plan after editing the team example (touching nothing on the machine).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { validateText } from "../../src/config/load.js";
import { outlineOf, planChanges } from "../../src/deploy/engine.js";
import { capLines, describeDiff } from "../../src/deploy/spec-diff.js";
import { hashOf } from "../../src/lib/hash.js";
import { repoPath } from "../../src/paths.js";
import type { Component } from "../../src/targets/component.js";
import { explainFiles } from "../../src/targets/local/components/config-files.js";
import { explainProcesses } from "../../src/targets/local/components/services.js";
import { localTarget } from "../../src/targets/local/target.js";
import type { DeployState } from "../../src/targets/target.js";

/** A state in which every component was applied exactly as given. */
function appliedState(components: readonly Component[]): DeployState {
  const entries = components.map((c) => [
    c.name,
    { hash: hashOf(c.spec), appliedAt: "t", outline: outlineOf(c) },
  ]);
  return { version: 1, project: "p", components: Object.fromEntries(entries) };
}

describe("plan details", () => {
  it("compares named lists by name, value lists as sets and objects key by key", () => {
    const before = {
      users: [
        { name: "alice", groups: ["red"], shell: "/bin/bash" },
        { name: "bob", groups: [] },
      ],
      port: 8000,
      file: "0123456789abcdef",
    };
    const after = {
      users: [
        { name: "alice", groups: ["blue", "red"], shell: "/bin/zsh" },
        { name: "carl", groups: [] },
      ],
      port: 8443,
      file: "fedcba9876543210",
      extra: true,
    };
    assert.deepEqual(describeDiff(before, after), [
      "users: add carl",
      "users: remove bob",
      'users[alice].groups: add "blue"',
      'users[alice].shell: "/bin/bash" -> "/bin/zsh"',
      "port: 8000 -> 8443",
      "file: changed",
      "extra: added true",
    ]);
    assert.deepEqual(describeDiff({ a: [1, 2] }, { a: [2, 1] }), ["a: order changed"]);
    assert.deepEqual(describeDiff(before, before), []);
  });

  it("keeps a component's detail short", () => {
    const lines = Array.from({ length: 25 }, (_, i) => `line ${i}`);
    assert.deepEqual(capLines(lines).slice(-2), ["line 19", "... and 5 more"]);
  });

  it("names the files that change and the keys that change in JSON files", () => {
    const before = { "hub/atrium_hub.json": { users: "a", profiles: "b" }, "x.conf": "1111111111111111" };
    const after = { "hub/atrium_hub.json": { users: "a2", profiles: "b2" }, "y.conf": "2222222222222222" };
    assert.deepEqual(explainFiles(before, after), [
      "hub/atrium_hub.json changes: users, profiles",
      "running servers keep the profile limits they started with until they restart",
      "writes y.conf",
      "removes x.conf",
    ]);
  });

  it("says which processes start, restart and stop, and what a hub restart means", () => {
    const before = { processes: { proxy: "1", hub: "1", ssh: "1" } };
    const after = { processes: { proxy: "1", hub: "2", envs: "1" } };
    assert.deepEqual(explainProcesses(before, after), [
      "starts envs",
      "restarts hub (config, environment or code changed)",
      "stops ssh",
      "running user servers and kernels keep running while the hub restarts",
    ]);
    assert.deepEqual(explainProcesses(before, before), ["no process restarts"]);
    assert.deepEqual(explainProcesses(undefined, after), ["starts proxy, hub, envs"]);
  });

  it("says what the whole local plan changes after adding a user and resizing a profile", async () => {
    const file = repoPath("examples", "team.yaml");
    const load = (text: string) => {
      const r = validateText(file, text);
      assert.equal(r.problems.length, 0, JSON.stringify(r.problems));
      return r.config as NonNullable<typeof r.config>;
    };
    const original = readFileSync(file, "utf8");
    const before = localTarget(load(original), file);
    const state = appliedState(before.components());
    const edited = parse(original) as {
      users: Array<{ name: string; groups?: string[] }>;
      profiles: Array<{ mem_limit?: string }>;
    };
    edited.users.push({ name: "zoe", groups: [edited.users[0]?.groups?.[0] ?? ""] });
    const profile = edited.profiles[0];
    assert.ok(profile);
    profile.mem_limit = "3G";
    const after = localTarget(load(JSON.stringify(edited)), file);
    const changes = await planChanges(after.components(), state, false);
    const of = (name: string) => changes.find((c) => c.component === name);
    assert.equal(of("accounts")?.kind, "update");
    assert.deepEqual(of("accounts")?.details, ["users: add zoe"]);
    assert.ok(of("config-files")?.details?.includes("hub/atrium_hub.json changes: profiles, users"));
    assert.ok(
      of("config-files")?.details?.includes(
        "running servers keep the profile limits they started with until they restart",
      ),
    );
    assert.match(of("services")?.details?.join("\n") ?? "", /^restarts .*hub/m);
    assert.equal(of("directories")?.kind, "same");
    assert.equal(of("directories")?.details, undefined);
  });
});
