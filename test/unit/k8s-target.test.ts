/** The kubernetes target through the registry: it renders, and says which cluster it cannot reach. */
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
import { targetFor } from "../../src/targets/registry.js";

const file = repoPath("examples", "team-kubernetes.yaml");

describe("kubernetes target", () => {
  it("renders one file per object, by wave, besides the secrets and identities it used", () => {
    const target = targetFor(loadConfig(file), file);
    assert.equal(target.type, "kubernetes");
    const files = [...target.render().keys()];
    assert.ok(files.includes("1-namespace/namespace-team.json"));
    assert.ok(files.includes("5-workloads/deployment-hub.json"));
    assert.ok(files.includes("identities.json") && files.includes("secrets.json"));
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
      const target = targetFor(loadConfig(file), file);
      for (const call of [() => target.preflight(), () => target.status()]) {
        await assert.rejects(
          call(),
          /^AtriumError: can't reach the cluster at https:\/\/127\.0\.0\.1:9 \(context elsewhere\)/,
        );
      }
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
