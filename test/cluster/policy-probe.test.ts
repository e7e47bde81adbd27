/**
 * The NetworkPolicy probe on the real test cluster, where kube-router enforces policies:
 * the probe says enforced; without its deny policy the same client keeps reaching the
 * server (so "enforced" comes from the policy, not from a probe that cannot connect);
 * an image that cannot be pulled is "could not be checked", not enforced; `atrium plan`
 * prints the check's line. Every run leaves no probe namespace behind. The probe's time
 * is printed. Needs root and a built cluster.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, type TestContext, test } from "node:test";
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { DEFAULT_HUB_IMAGE } from "../../src/config/kubernetes-images.js";
import { repoPath } from "../../src/paths.js";
import { type ClusterConnection, connect } from "../../src/targets/kubernetes/cluster/connection.js";
import { runPolicyProbe } from "../../src/targets/kubernetes/cluster/policy-probe.js";
import { ADMIN_KUBECONFIG, type TestCluster, testCluster } from "./cluster-access.js";

/** The probe namespaces that exist now (deleting ones included). */
async function probeNamespaces(kc: KubeConfig): Promise<{ name: string; deleting: boolean }[]> {
  const list = await kc.makeApiClient(CoreV1Api).listNamespace();
  return list.items
    .filter((n) => n.metadata?.name?.startsWith("atrium-probe-"))
    .map((n) => ({ name: n.metadata?.name ?? "", deleting: n.metadata?.deletionTimestamp !== undefined }));
}

/** The namespace is being deleted as the probe returns, and gone within a minute. */
async function assertRemoved(kc: KubeConfig, name: string): Promise<void> {
  const now = (await probeNamespaces(kc)).find((n) => n.name === name);
  assert.ok(now === undefined || now.deleting, `the probe left ${name} in place`);
  const deadline = Date.now() + 60_000;
  while ((await probeNamespaces(kc)).some((n) => n.name === name)) {
    assert.ok(Date.now() < deadline, `${name} still there a minute after the probe`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe("the NetworkPolicy probe on the test cluster", () => {
  let cluster: TestCluster | string;
  let conn: ClusterConnection;
  let dir: string;
  const made: string[] = [];

  before(async () => {
    cluster = await testCluster();
    dir = mkdtempSync(join(tmpdir(), "atrium-pp-"));
    process.env.KUBECONFIG = ADMIN_KUBECONFIG;
    if (typeof cluster !== "string") conn = connect("atrium-test");
  });

  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    if (typeof cluster === "string") return;
    // whatever a failed test left: the probe deletes its namespace itself, so this is only a safety net
    const core = cluster.kc.makeApiClient(CoreV1Api);
    for (const name of made) await core.deleteNamespace({ name }).catch(() => {});
    cluster.stop();
  });

  const cluster_ = (t: TestContext): TestCluster | undefined => {
    if (typeof cluster === "string") {
      t.skip(cluster);
      return undefined;
    }
    return cluster;
  };

  test("says enforced where kube-router enforces policies, and leaves no namespace", async (t) => {
    const c = cluster_(t);
    if (!c) return;
    const result = await runPolicyProbe(conn, { image: DEFAULT_HUB_IMAGE });
    made.push(result.namespace);
    t.diagnostic(`probe took ${result.seconds.toFixed(1)} s: ${result.detail}`);
    process.stdout.write(`# NetworkPolicy probe: ${result.seconds.toFixed(1)} s (${result.detail})\n`);
    assert.equal(
      result.detail.startsWith("a pod reached another's server, and was refused"),
      true,
      result.detail,
    );
    assert.deepEqual([result.enforced, result.checked], [true, true]);
    assert.ok(result.seconds < 60, `${result.seconds} s`);
    await assertRemoved(c.kc, result.namespace);
  });

  test("without the deny policy the client keeps reaching the server (the connectivity check works)", async (t) => {
    const c = cluster_(t);
    if (!c) return;
    const result = await runPolicyProbe(conn, { image: DEFAULT_HUB_IMAGE, deny: false, windowMs: 5000 });
    made.push(result.namespace);
    t.diagnostic(`took ${result.seconds.toFixed(1)} s: ${result.detail}`);
    assert.deepEqual(
      [result.enforced, result.checked, result.detail],
      [false, true, "the client kept reaching the server for 5 s (no policy applied)"],
    );
    await assertRemoved(c.kc, result.namespace);
  });

  test("an image that cannot be pulled is 'could not be checked', not enforced", async (t) => {
    const c = cluster_(t);
    if (!c) return;
    const result = await runPolicyProbe(conn, { image: "registry.invalid/atrium/none:1", timeoutMs: 40_000 });
    made.push(result.namespace);
    t.diagnostic(`took ${result.seconds.toFixed(1)} s: ${result.detail}`);
    assert.deepEqual([result.enforced, result.checked], [false, false]);
    assert.match(
      result.detail,
      /^could not be checked: pod probe-(server|client) Pending \((ErrImagePull|ImagePullBackOff)/,
    );
    await assertRemoved(c.kc, result.namespace);
  });

  test("is bounded: pods that do not reach the server in time are 'could not be checked', with what they were doing", async (t) => {
    const c = cluster_(t);
    if (!c) return;
    const result = await runPolicyProbe(conn, { image: DEFAULT_HUB_IMAGE, timeoutMs: 1500, windowMs: 1000 });
    made.push(result.namespace);
    t.diagnostic(`took ${result.seconds.toFixed(1)} s: ${result.detail}`);
    assert.deepEqual([result.enforced, result.checked], [false, false]);
    assert.match(
      result.detail,
      /^could not be checked: (the client pod did not reach the server within [\d.]+ s: pod probe-server|the probe did not finish within 1.5 s: )/,
    );
    assert.ok(result.seconds < 25, `${result.seconds} s`);
    await assertRemoved(c.kc, result.namespace);
  });

  test("atrium plan prints that the cluster enforces them", async (t) => {
    const c = cluster_(t);
    if (!c) return;
    const file = join(dir, "atrium.yaml");
    const example = readFileSync(repoPath("examples", "team-kubernetes.yaml"), "utf8");
    writeFileSync(
      file,
      example.replace(
        "  type: kubernetes\n  namespace: team\n",
        "  type: kubernetes\n  context: atrium-test\n  namespace: atrium-pp-plan\n",
      ),
    );
    const before = new Set((await probeNamespaces(c.kc)).map((n) => n.name));
    const r = spawnSync(process.execPath, [repoPath("dist", "src", "cli", "main.js"), "plan", "-c", file], {
      encoding: "utf8",
      env: { ...process.env, KUBECONFIG: ADMIN_KUBECONFIG, XDG_STATE_HOME: join(dir, "state") },
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /^NetworkPolicies: enforced by the cluster \(context atrium-test; probed in [\d.]+ s\)$/m,
    );
    const left = (await probeNamespaces(c.kc)).filter((n) => !before.has(n.name));
    for (const n of left) await assertRemoved(c.kc, n.name);
  });
});
