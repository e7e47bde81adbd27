/**
 * A target that is not the local one plugs into the deploy engine through the same
 * Target interface: an in-memory "machine", its own state store and lock. Deploy
 * creates, updates and removes its components (remove() runs for what left the
 * plan, which plan shows as delete), awaits an asynchronous present(), and keeps
 * its state only in the target's store.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfig } from "../../src/config/load.js";
import { deployTo, destroy } from "../../src/deploy/deploy.js";
import { planChanges, type Reporter, summarize } from "../../src/deploy/engine.js";
import { AtriumError } from "../../src/errors.js";
import { derivePlatform } from "../../src/model/platform.js";
import { repoPath } from "../../src/paths.js";
import type { Artifacts } from "../../src/targets/artifacts.js";
import type { Component } from "../../src/targets/component.js";
import type { DeployState, Target } from "../../src/targets/target.js";

const platform = derivePlatform(loadConfig(repoPath("examples", "quickstart.yaml")));

/** What the fake target's "cluster" holds: object name -> content. */
type Machine = Map<string, string>;

interface Fake {
  target: Target;
  machine: Machine;
  /** The objects the platform wants; render() turns them into one artifact each. */
  wanted: Map<string, string>;
  /** Objects the target knows how to make, wanted or not. */
  known: string[];
  saves: DeployState[];
  removed: string[];
}

function fakeTarget(): Fake {
  const machine: Machine = new Map();
  const wanted = new Map<string, string>();
  const saves: DeployState[] = [];
  const removed: string[] = [];
  let saved: DeployState = { version: 1, project: platform.project.name, components: {} };
  let locked = false;
  const fake: Fake = { machine, wanted, known: [], saves, removed, target: undefined as unknown as Target };
  const render = (): Artifacts =>
    new Map([...wanted].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [`objects/${k}.yaml`, v]));
  const objectComponent = (name: string, artifacts: Artifacts): Component => {
    const content = artifacts.get(`objects/${name}.yaml`);
    return {
      name,
      title: `object ${name}`,
      spec: content ?? null,
      wanted: content !== undefined,
      present: async () => {
        await new Promise((r) => setTimeout(r, 1));
        return machine.get(name) === content;
      },
      async apply() {
        machine.set(name, content ?? "");
        return { note: "applied" };
      },
      async remove() {
        machine.delete(name);
        removed.push(name);
      },
    };
  };
  fake.target = {
    type: "fake",
    platform,
    render,
    components: () => {
      const artifacts = render();
      return fake.known.map((name) => objectComponent(name, artifacts));
    },
    state: {
      location: "memory",
      load: async () => structuredClone(saved),
      save: async (state) => {
        saved = structuredClone(state);
        saves.push(saved);
      },
    },
    lock: {
      unlock: async () => "nothing to remove",
      async acquire(what) {
        if (locked) throw new AtriumError("locked", `another ${what} is running`);
        locked = true;
        return async () => {
          locked = false;
        };
      },
    },
    preflight: async () => {},
    status: async () => ({
      answering: machine.size > 0,
      report: { objects: [...machine.keys()] },
      lines: [],
    }),
    logNames: () => [],
    logs: async () => {},
    destroy: async () => machine.clear(),
    endpoints: () => [{ name: "hub", url: "https://fake.example" }],
  };
  return fake;
}

const quiet: Reporter = { start() {}, detail() {}, important() {}, done() {}, failed() {} };
const kinds = (changes: { component: string; kind: string }[]) => changes.map((c) => [c.component, c.kind]);

describe("a fake target through the Target interface", () => {
  it("plans, applies, updates and removes its components", async () => {
    const fake = fakeTarget();
    const { target, machine } = fake;
    fake.known = ["hub", "proxy", "gateway"];
    fake.wanted.set("hub", "image: hub:1\n").set("proxy", "image: chp:1\n").set("gateway", "image: dg:1\n");

    const first = await deployTo(target, quiet);
    assert.deepEqual(kinds(first), [
      ["hub", "create"],
      ["proxy", "create"],
      ["gateway", "create"],
    ]);
    assert.deepEqual([...machine.keys()].sort(), ["gateway", "hub", "proxy"]);
    assert.equal(fake.saves.length, 3, "state saved after each component, in the target's store");

    fake.wanted.set("hub", "image: hub:2\n");
    fake.wanted.delete("gateway");
    const plan = await planChanges(target.components(), await target.state.load());
    assert.deepEqual(kinds(plan), [
      ["hub", "update"],
      ["proxy", "same"],
      ["gateway", "delete"],
    ]);
    assert.equal(plan.find((c) => c.kind === "delete")?.title, "object gateway");
    assert.equal(summarize(plan), "0 to create, 1 to update, 1 to delete, 1 unchanged");

    await deployTo(target, quiet);
    assert.deepEqual(fake.removed, ["gateway"], "remove() ran for the component that left the plan");
    assert.deepEqual([...machine.entries()].sort(), [
      ["hub", "image: hub:2\n"],
      ["proxy", "image: chp:1\n"],
    ]);
    assert.deepEqual(Object.keys((await target.state.load()).components).sort(), ["hub", "proxy"]);
  });

  it("re-applies what an asynchronous present() finds missing", async () => {
    const fake = fakeTarget();
    fake.known = ["hub"];
    fake.wanted.set("hub", "image: hub:1\n");
    await deployTo(fake.target, quiet);
    fake.machine.delete("hub");
    const plan = await planChanges(fake.target.components(), await fake.target.state.load());
    assert.deepEqual(plan, [
      { component: "hub", title: "object hub", kind: "update", reason: "missing on disk" },
    ]);
    await deployTo(fake.target, quiet);
    assert.equal(fake.machine.get("hub"), "image: hub:1\n");
  });

  it("forgets a component no longer built at all, and never applies one that is not wanted", async () => {
    const fake = fakeTarget();
    fake.known = ["hub", "extra"];
    fake.wanted.set("hub", "a\n");
    const first = await deployTo(fake.target, quiet);
    assert.deepEqual(
      kinds(first),
      [["hub", "create"]],
      "extra is not wanted and was never applied: no change",
    );
    assert.equal(fake.machine.has("extra"), false);
    fake.known = [];
    const second = await deployTo(fake.target, quiet);
    assert.deepEqual(kinds(second), [["hub", "delete"]]);
    assert.deepEqual(fake.removed, [], "nothing to call remove() on: the target no longer builds it");
    assert.deepEqual((await fake.target.state.load()).components, {});
  });

  it("deploys and destroys under the target's own lock", async () => {
    const fake = fakeTarget();
    fake.known = ["hub"];
    fake.wanted.set("hub", "a\n");
    const release = await fake.target.lock.acquire("deploy", true);
    await assert.rejects(deployTo(fake.target, quiet), /another deploy is running/);
    await assert.rejects(destroy(fake.target, false, quiet), /another deploy or destroy is running/);
    await release();
    await deployTo(fake.target, quiet);
    await destroy(fake.target, false, quiet);
    assert.equal(fake.machine.size, 0);
  });

  it("runs the target's checks before deploy changes anything: their lines reported, a refusal before the lock", async () => {
    const fake = fakeTarget();
    fake.known = ["hub"];
    fake.wanted.set("hub", "a\n");
    const refusal = new AtriumError("prerequisite", "the cluster does not enforce NetworkPolicies");
    fake.target.checks = async () => {
      throw refusal;
    };
    const release = await fake.target.lock.acquire("deploy", true);
    await assert.rejects(deployTo(fake.target, quiet), (err) => err === refusal);
    await release();
    assert.equal(fake.machine.size, 0);
    assert.equal(fake.saves.length, 0);
    const details: string[] = [];
    fake.target.checks = async () => ["NetworkPolicies: enforced"];
    await deployTo(fake.target, { ...quiet, detail: (line) => details.push(line) });
    assert.deepEqual(details, ["NetworkPolicies: enforced"]);
    assert.deepEqual([...fake.machine.keys()], ["hub"]);
  });

  it("with a lock it can read, a deploy with nothing to change takes no lock, runs no check and saves nothing", async () => {
    const fake = fakeTarget();
    fake.known = ["hub"];
    fake.wanted.set("hub", "a\n");
    let holder: string | undefined;
    const acquired: string[] = [];
    const lock = fake.target.lock;
    const acquire = lock.acquire.bind(lock);
    lock.acquire = (what: string, create: boolean) => {
      acquired.push(what);
      return acquire(what, create);
    };
    lock.holder = async () => holder;
    let checked = 0;
    fake.target.checks = async () => {
      checked++;
      return [];
    };
    await deployTo(fake.target, quiet);
    assert.deepEqual([acquired.length, checked, fake.saves.length], [1, 1, 1]);
    const changes = await deployTo(fake.target, quiet);
    assert.equal(summarize(changes), "0 to create, 0 to update, 0 to delete, 1 unchanged");
    assert.deepEqual([acquired.length, checked, fake.saves.length], [1, 1, 1], "the no-op deploy wrote");
    // another deploy halfway: the usual path, which meets its lock
    holder = "someone else";
    await deployTo(fake.target, quiet);
    assert.deepEqual([acquired.length, checked], [2, 2]);
    // something missing on the machine is a change: deployed under the lock
    holder = undefined;
    fake.machine.clear();
    await deployTo(fake.target, quiet);
    assert.deepEqual([acquired.length, fake.machine.size], [3, 1]);
  });
});
