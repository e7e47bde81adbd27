/**
 * Plan's online step on the real test cluster: the team example's objects are applied
 * to a namespace of this test's own (server-side, as deploy would, with the state saved
 * in its Secret), the file then changes (the small profile's memory limit and the hub
 * image), and `atrium plan` shows, under each changed object, the fields the cluster's
 * dry run changes and that the change restarts the hub; `--json` carries the same.
 * Plan writes nothing: every object's resourceVersion is the same afterwards and no
 * lock was taken. With the cluster out of reach, plan still prints the offline step
 * from the state's local copy and says in one line that the online step was skipped.
 * Needs root and a built cluster; the namespace is deleted at the end, also on failure.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type KubernetesObject, PatchStrategy } from "@kubernetes/client-node";
import { loadConfig } from "../../src/config/load.js";
import { applyChanges, planChanges, type Reporter } from "../../src/deploy/engine.js";
import { repoPath } from "../../src/paths.js";
import type { Component } from "../../src/targets/component.js";
import {
  type ClusterConnection,
  connect,
  FIELD_MANAGER,
  isNotFound,
} from "../../src/targets/kubernetes/cluster/connection.js";
import { LEASE_NAME } from "../../src/targets/kubernetes/cluster/lease-lock.js";
import { ensureNamespace } from "../../src/targets/kubernetes/cluster/namespace.js";
import { type NamedObject, objectKey } from "../../src/targets/kubernetes/cluster/object-component.js";
import { targetFor } from "../../src/targets/registry.js";
import {
  ADMIN_KUBECONFIG,
  deleteNamespace,
  imageAlias,
  type TestCluster,
  testCluster,
} from "./cluster-access.js";
import { imagePins } from "./images.js";

const NAMESPACE = `atrium-op-${randomBytes(3).toString("hex")}`;
/** The hub image the file changes to: the same python image under a name of this test's own (the probe runs it). */
const NEW_HUB_IMAGE = `localhost/${NAMESPACE}/python:next`;
const quiet: Reporter = { start() {}, detail() {}, important() {}, done() {}, failed() {} };

function escaped(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

function atrium(args: string[], env: NodeJS.ProcessEnv) {
  const r = spawnSync(process.execPath, [repoPath("dist", "src", "cli", "main.js"), ...args], {
    encoding: "utf8",
    env: { ...process.env, ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The team example in this test's namespace; no storage any other test could bind (a class
 * no volume has, so claims stay pending and no pod runs) and no fixed node port.
 */
function testConfig(example: string): string {
  const replace = (text: string, from: string, to: string) => {
    assert.ok(text.includes(from), `the team example no longer has ${JSON.stringify(from)}`);
    return text.replace(from, to);
  };
  let text = replace(
    example,
    "  type: kubernetes\n  namespace: team\n",
    `  type: kubernetes\n  context: atrium-test\n  namespace: ${NAMESPACE}\n`,
  );
  text = replace(
    text,
    "  expose:\n    type: NodePort\n    port: 30080\n",
    "  expose:\n    type: LoadBalancer\n",
  );
  return replace(
    text,
    "  storage:\n    host_path:\n      path: /srv/atrium/team\n",
    "  storage:\n    storage_class: atrium-op-none\n    size: 1Gi\n  hub_storage:\n    storage_class: atrium-op-none\n",
  );
}

/**
 * Every object of the namespace Atrium made, with what a write by plan would change: the
 * generation where the object has one (its controller's status updates leave that alone, a
 * spec write bumps it), else the resourceVersion.
 */
async function versions(conn: ClusterConnection, objects: NamedObject[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const state = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "atrium-state", namespace: NAMESPACE },
  };
  for (const o of [...objects, state]) {
    const live = await conn.objects.read(o as NamedObject);
    const generation = live.metadata?.generation;
    out[`${o.kind}/${o.metadata.name}`] =
      generation === undefined ? `rv ${live.metadata?.resourceVersion}` : `generation ${generation}`;
  }
  return out;
}

/**
 * Deploy's apply of the objects without its waits (no pod can start here: its volumes stay
 * pending), and without the environments, which the environment service's pod would build.
 */
function applyOnly(conn: ClusterConnection, c: Component): Component {
  if (c.name === "environments") return { ...c, apply: async () => ({ note: "not built here" }) };
  const obj = c.spec as NamedObject;
  if (typeof obj?.kind !== "string" || objectKey(obj) !== c.name) return c;
  return {
    ...c,
    async apply() {
      await conn.objects.patch<KubernetesObject>(
        obj,
        undefined,
        undefined,
        FIELD_MANAGER,
        true,
        PatchStrategy.ServerSideApply,
      );
      return { data: { ref: { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name } } };
    },
  };
}

describe("atrium plan's online step on the kubernetes target", () => {
  let cluster: TestCluster | string;
  let dir: string;
  let file: string;
  let env: NodeJS.ProcessEnv;
  let conn: ClusterConnection;
  /** What before() made, for after() to remove even when before() stopped halfway. */
  const made: { conn?: ClusterConnection; dir?: string; untag?: () => void } = {};
  let applied: NamedObject[] = [];

  before(async () => {
    cluster = await testCluster();
    if (typeof cluster === "string") return;
    dir = mkdtempSync(join(tmpdir(), "atrium-op-"));
    made.dir = dir;
    file = join(dir, "atrium.yaml");
    writeFileSync(file, testConfig(readFileSync(repoPath("examples", "team-kubernetes.yaml"), "utf8")));
    env = { KUBECONFIG: ADMIN_KUBECONFIG, XDG_STATE_HOME: join(dir, "state") };
    Object.assign(process.env, env);
    conn = connect("atrium-test");
    made.conn = conn;
    made.untag = imageAlias(imagePins().python.image, NEW_HUB_IMAGE);
    // what a first deploy leaves: every object applied, the state in its Secret (and its local copy)
    const target = targetFor(loadConfig(file), file);
    await ensureNamespace(conn, NAMESPACE, { "app.kubernetes.io/managed-by": "atrium" });
    const state = await target.state.load();
    const components = target.components(state).map((c) => applyOnly(conn, c));
    await applyChanges(components, await planChanges(components, state), {
      store: target.state,
      state,
      reporter: quiet,
    });
    applied = components.flatMap((c) => {
      const obj = c.spec as NamedObject | undefined;
      return typeof obj?.kind === "string" && objectKey(obj) === c.name ? [obj] : [];
    });
    // the change the plan must explain
    const text = readFileSync(file, "utf8");
    const changed = text
      .replace("    mem_limit: 2Gi\n", "    mem_limit: 3Gi\n")
      .replace("  storage:\n", `  images:\n    hub: ${NEW_HUB_IMAGE}\n  storage:\n`);
    assert.notEqual(changed, text);
    writeFileSync(file, changed);
  });

  after(async () => {
    if (typeof cluster === "string") return;
    try {
      if (made.conn !== undefined) await deleteNamespace(made.conn, NAMESPACE);
    } finally {
      made.untag?.();
      if (made.dir !== undefined) rmSync(made.dir, { recursive: true, force: true });
      cluster.stop();
    }
  });

  test("shows the fields each changed object changes and what restarts, and writes nothing", async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    const before = await versions(conn, applied);
    const r = atrium(["plan", "-c", file], env);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = r.stdout;
    const section = (component: string) => {
      const start = out.indexOf(`~ update  ${component} `);
      assert.ok(start >= 0, `no update of ${component} in:\n${out}`);
      const rest = out.slice(start + 1);
      const end = rest.search(/\n[+~±=-] /);
      return end < 0 ? rest : rest.slice(0, end);
    };
    const settings = section("configmap/hub-settings");
    assert.match(
      settings,
      /data\["atrium_hub\.json"\]\.profiles\[small\]\.mem_limit: 2147483648 -> 3221225472/,
    );
    assert.match(settings, /> restarts the hub: Deployment hub's pod template carries this ConfigMap's hash/);
    assert.match(settings, /> profile changes only affect new servers/);
    const hub = section("deployment/hub");
    assert.match(
      hub,
      new RegExp(
        `spec\\.template\\.spec\\.containers\\[hub\\]\\.image: "${escaped(imagePins().python.image)}" -> "${escaped(NEW_HUB_IMAGE)}"`,
      ),
    );
    assert.match(hub, /spec\.template\.spec\.initContainers\[python-envs\]\.image: /);
    assert.match(
      hub,
      /spec\.template\.metadata\.annotations\["atrium\.dev\/settings-hash"\]: "[0-9a-f]+" -> "[0-9a-f]+"/,
    );
    assert.match(hub, /> restarts the hub: its pod is replaced/);
    // the Dask gateway runs in the hub's image (the same hub env), so it changes with it
    const gateway = section("deployment/dask-gateway");
    assert.match(gateway, /spec\.template\.spec\.containers\[gateway\]\.image: /);
    assert.match(gateway, /> restarts the Dask gateway: its pod is replaced/);
    assert.doesNotMatch(out, /managedFields|resourceVersion|deployment\.kubernetes\.io\/revision/);
    assert.match(out, /^= same +deployment\/proxy /m);
    assert.match(
      out,
      /^Online step: server-side dry run on context atrium-test: 3 objects checked, 3 differ from the cluster$/m,
    );
    assert.match(out, /Plan: 0 to create, 3 to update, 0 to delete, \d+ unchanged/);
    assert.deepEqual(await versions(conn, applied), before, "plan wrote to the cluster");
    const lease = conn.objects.read({
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: LEASE_NAME, namespace: NAMESPACE },
    });
    await assert.rejects(lease, (err: unknown) => isNotFound(err), "plan took the deploy lock");
  });

  test("--json carries the fields and effects of each change", async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    const r = atrium(["plan", "-c", file, "--json"], env);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const plan = JSON.parse(r.stdout) as {
      changes: { component: string; online?: { fields: string[]; effects: string[] } }[];
      online: { ran: boolean; note: string };
    };
    assert.equal(plan.online.ran, true);
    const hub = plan.changes.find((c) => c.component === "deployment/hub");
    assert.ok(hub?.online?.fields.some((f) => f.startsWith("spec.template.spec.containers[hub].image: ")));
    assert.ok(hub?.online?.effects.some((e) => e.startsWith("restarts the hub")));
  });

  test("without the cluster: the offline step from the state's copy, and one line saying the online step was skipped", async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    const kubeconfig = join(dir, "unreachable");
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        "current-context": "atrium-test",
        clusters: [{ name: "gone", cluster: { server: "https://127.0.0.1:9" } }],
        users: [{ name: "u", user: { token: "unused" } }],
        contexts: [{ name: "atrium-test", context: { cluster: "gone", user: "u" } }],
      }),
    );
    const r = atrium(["plan", "-c", file], { ...env, KUBECONFIG: kubeconfig });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^~ update +configmap\/hub-settings /m);
    assert.match(r.stdout, /^~ update +deployment\/hub /m);
    const skipped = r.stdout.split("\n").filter((l) => l.startsWith("Online step skipped: "));
    assert.equal(skipped.length, 1, r.stdout);
    assert.match(
      skipped[0] ?? "",
      /^Online step skipped: can't reach the cluster at https:\/\/127\.0\.0\.1:9 \(context atrium-test\) while reading the deploy state .+ \(the offline step used the local copy of the state\)$/,
    );
    assert.match(r.stdout, /Plan: 0 to create, 3 to update, 0 to delete, \d+ unchanged/);
  });
});
