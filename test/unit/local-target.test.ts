/** The local target's own answers through the Target interface: where people reach it, and which logs it has. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfig } from "../../src/config/load.js";
import type { Config } from "../../src/config/schema.js";
import { repoPath } from "../../src/paths.js";
import { targetFor } from "../../src/targets/registry.js";

const target = (name: string, edit: (config: Config) => void = () => {}) => {
  const file = repoPath("examples", `${name}.yaml`);
  const config = loadConfig(file);
  edit(config);
  return targetFor(config, file);
};

describe("the local target", () => {
  it("is what the registry gives for target.type local", () => {
    assert.equal(target("quickstart").type, "local");
  });

  it("names the hub's public address, and the SSH gateway where SSH is on", () => {
    assert.deepEqual(target("team").endpoints(), [
      { name: "hub", url: "https://127.0.0.1:8000" },
      { name: "ssh", url: "ssh://127.0.0.1:8022" },
    ]);
    const noSsh = target("quickstart", (c) => {
      c.ssh.enabled = false;
    });
    assert.deepEqual(noSsh.endpoints(), [{ name: "hub", url: "http://127.0.0.1:8000" }]);
  });

  it("has a log for every supervised process and the supervisor", () => {
    assert.deepEqual(target("quickstart").logNames().sort(), [
      "dask-auth",
      "dask-gateway",
      "envs",
      "hub",
      "proxy",
      "ssh",
      "supervisor",
    ]);
  });

  it("offers hub passwords and the environment service", () => {
    const t = target("quickstart");
    assert.ok(t.passwords);
    assert.ok(t.envs);
  });
});
