/** The kubernetes target through the registry: it renders, plans against a cluster, and refuses to deploy yet. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadConfig } from "../../src/config/load.js";
import { plan } from "../../src/deploy/deploy.js";
import { AtriumError } from "../../src/errors.js";
import { repoPath } from "../../src/paths.js";
import { connect } from "../../src/targets/kubernetes/cluster/connection.js";
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

  it("refuses deploy's checks and the runtime commands as not supported yet", async () => {
    const target = targetFor(loadConfig(file), file);
    await assert.rejects(target.preflight(), refused);
    await assert.rejects(target.status(), refused);
    await assert.rejects(target.destroy(false, { detail() {}, important() {} }), refused);
  });

  it("plans through the kubeconfig, and says which cluster it cannot reach or which context is missing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "atrium-kc-"));
    const saved = process.env.KUBECONFIG;
    try {
      const kubeconfig = join(dir, "config");
      writeFileSync(
        kubeconfig,
        JSON.stringify({
          apiVersion: "v1",
          kind: "Config",
          "current-context": "elsewhere",
          clusters: [{ name: "elsewhere", cluster: { server: "https://127.0.0.1:9" } }],
          users: [{ name: "u", user: { token: "unused" } }],
          contexts: [{ name: "elsewhere", context: { cluster: "elsewhere", user: "u" } }],
        }),
      );
      process.env.KUBECONFIG = kubeconfig;
      await assert.rejects(plan(loadConfig(file), file), (err: unknown) => {
        assert.ok(err instanceof AtriumError);
        assert.match(
          err.message,
          /^can't reach the cluster at https:\/\/127\.0\.0\.1:9 \(context elsewhere\) while reading the deploy state team\/atrium-state: /,
        );
        assert.equal(err.hint, "check that the cluster answers: kubectl --context elsewhere get namespaces");
        return true;
      });
      assert.throws(
        () => connect("team-cluster"),
        (err: unknown) => {
          assert.ok(err instanceof AtriumError);
          assert.equal(err.message, "the kubeconfig has no context team-cluster (it has: elsewhere)");
          assert.match(err.hint ?? "", /fix target.context in the file/);
          return true;
        },
      );
    } finally {
      if (saved === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
