/** The kubernetes target through the registry: it renders, and refuses to plan or deploy yet. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfig } from "../../src/config/load.js";
import { plan } from "../../src/deploy/deploy.js";
import { AtriumError } from "../../src/errors.js";
import { repoPath } from "../../src/paths.js";
import { NOT_DEPLOYABLE } from "../../src/targets/kubernetes/target.js";
import { targetFor } from "../../src/targets/registry.js";

const file = repoPath("examples", "team-kubernetes.yaml");
const refused = (err: unknown) =>
  err instanceof AtriumError && err.code === "not-supported" && err.message === NOT_DEPLOYABLE;

describe("kubernetes target", () => {
  it("renders one file per object, by wave, besides the secrets and identities it used", () => {
    const target = targetFor(loadConfig(file), file);
    assert.equal(target.type, "kubernetes");
    const files = [...target.render().keys()];
    assert.ok(files.includes("1-namespace/namespace-team.json"));
    assert.ok(files.includes("5-workloads/deployment-hub.json"));
    assert.ok(files.includes("identities.json") && files.includes("secrets.json"));
  });

  it("refuses plan, deploy's checks and the runtime commands as not supported yet", async () => {
    const target = targetFor(loadConfig(file), file);
    await assert.rejects(plan(loadConfig(file), file), refused);
    await assert.rejects(target.preflight(), refused);
    await assert.rejects(target.status(), refused);
    assert.throws(() => target.state, refused);
    assert.throws(() => target.lock, refused);
  });
});
