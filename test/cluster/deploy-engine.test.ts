/**
 * The kubernetes target's deploy pieces against the real test cluster: the state in a
 * Secret (saved with its resourceVersion), the deploy lock as a Lease (refused while
 * held, taken over once expired), objects applied server-side by the deploy engine,
 * a no-op deploy that writes nothing (every write the client makes is counted), and
 * what left the file deleted after the rest, except volumes. Needs root and a built
 * cluster; everything it makes lives in its own namespace, deleted at the end.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { applyChanges, planChanges, type Reporter } from "../../src/deploy/engine.js";
import { AtriumError } from "../../src/errors.js";
import type { Component } from "../../src/targets/component.js";
import {
  type ClusterConnection,
  connect,
  isNotFound,
} from "../../src/targets/kubernetes/cluster/connection.js";
import { leaseLock } from "../../src/targets/kubernetes/cluster/lease-lock.js";
import {
  leftoverComponents,
  type NamedObject,
  objectComponent,
} from "../../src/targets/kubernetes/cluster/object-component.js";
import { readStateMirror, secretStateStore } from "../../src/targets/kubernetes/cluster/state-secret.js";
import type { DeployState } from "../../src/targets/target.js";
import { ADMIN_KUBECONFIG, deleteNamespace, type TestCluster, testCluster } from "./cluster-access.js";
import { imagePins } from "./images.js";

const NAMESPACE = `atrium-de-${randomBytes(3).toString("hex")}`;
const LABELS = { "app.kubernetes.io/managed-by": "atrium" };

const quiet: Reporter = { start() {}, detail() {}, important() {}, done() {}, failed() {} };

/** Every call that writes, counted as the client makes it. */
function countWrites(conn: ClusterConnection): { writes: string[] } {
  const counter = { writes: [] as string[] };
  const api = conn.objects as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  for (const verb of ["create", "patch", "replace", "delete"]) {
    const real = api[verb]?.bind(conn.objects);
    if (!real) continue;
    api[verb] = (...args: unknown[]) => {
      const obj = args[0] as NamedObject;
      counter.writes.push(`${verb} ${obj.kind}/${obj.metadata.name}`);
      return real(...args);
    };
  }
  return counter;
}

function configMap(name: string, data: Record<string, string>): NamedObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, namespace: NAMESPACE, labels: LABELS },
    data,
  } as NamedObject;
}

function deployment(name: string, message: string): NamedObject {
  const labels = { ...LABELS, "app.kubernetes.io/name": name };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: NAMESPACE, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: "main",
              image: imagePins().python.image,
              imagePullPolicy: "IfNotPresent",
              command: ["python3", "-c", `import time; print(${JSON.stringify(message)}); time.sleep(3600)`],
              securityContext: { runAsUser: 4242, runAsGroup: 4242, allowPrivilegeEscalation: false },
            },
          ],
        },
      },
    },
  } as NamedObject;
}

function claim(name: string): NamedObject {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name, namespace: NAMESPACE, labels: LABELS },
    spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Mi" } } },
  } as NamedObject;
}

describe("kubernetes deploy pieces on the test cluster", () => {
  let cluster: TestCluster | string;
  let conn: ClusterConnection;
  let mirrorDir: string;

  before(async () => {
    cluster = await testCluster();
    if (typeof cluster === "string") return;
    process.env.KUBECONFIG = ADMIN_KUBECONFIG;
    conn = connect(undefined);
    mirrorDir = mkdtempSync(join(tmpdir(), "atrium-de-"));
  });

  after(async () => {
    if (typeof cluster === "string") return;
    await deleteNamespace(conn, NAMESPACE);
    rmSync(mirrorDir, { recursive: true, force: true });
    cluster.stop();
  });

  const skipReason = () => (typeof cluster === "string" ? cluster : undefined);

  test("the lock: a second deploy is refused naming the holder; an expired lease is taken over", async (t) => {
    if (skipReason()) return t.skip(skipReason());
    const lock = leaseLock(conn, { namespace: NAMESPACE, labels: LABELS });
    const release = await lock.acquire("deploy", true);
    await assert.rejects(lock.acquire("deploy", true), (err: unknown) => {
      assert.ok(err instanceof AtriumError, String(err));
      assert.match(
        err.message,
        /another deploy is running on this platform: \S+@\S+ pid \d+ \(deploy\), last renewed \d+s ago/,
      );
      assert.match(err.hint ?? "", /atrium unlock/);
      return true;
    });
    // A holder that died: seen from two minutes later, its lease has expired.
    const later = leaseLock(conn, {
      namespace: NAMESPACE,
      labels: LABELS,
      now: () => new Date(Date.now() + 120_000),
    });
    const takenOver = await later.acquire("deploy", true);
    // The first holder's release leaves the lease it no longer holds alone.
    await release();
    await assert.rejects(lock.acquire("deploy", true), /another deploy is running/);
    await takenOver();
    const again = await lock.acquire("deploy", true);
    await again();
  });

  test("atrium unlock: a lease still renewed is kept unless forced, an expired one is removed, none is said", async (t) => {
    if (skipReason()) return t.skip(skipReason());
    const lock = leaseLock(conn, { namespace: NAMESPACE, labels: LABELS });
    assert.equal(await lock.holder?.(), undefined);
    const release = await lock.acquire("deploy", true);
    assert.match((await lock.holder?.()) ?? "", /pid \d+ \(deploy\)$/);
    await assert.rejects(lock.unlock(false), (err: unknown) => {
      assert.ok(err instanceof AtriumError, String(err));
      assert.match(err.message, /another deploy or destroy is running .* may be working/);
      assert.match(err.hint ?? "", /atrium unlock --force/);
      return true;
    });
    // seen two minutes later, the holder stopped renewing: removed without --force
    const later = leaseLock(conn, {
      namespace: NAMESPACE,
      labels: LABELS,
      now: () => new Date(Date.now() + 120_000),
    });
    assert.equal(await later.holder?.(), undefined, "an expired lease has no holder");
    assert.match(
      await later.unlock(false),
      /^removed the deploy lock Lease \S+\/atrium-deploy, held by \S+ pid \d+ \(deploy\)$/,
    );
    assert.match(await lock.unlock(false), /^no deploy lock to remove/);
    await release();
    const forced = await lock.acquire("deploy", true);
    assert.match(await lock.unlock(true), /^removed the deploy lock/);
    await forced();
    const again = await lock.acquire("deploy", true);
    await again();
  });

  test("the state lives in a Secret, mirrored root-only; a stale writer is refused", async (t) => {
    if (skipReason()) return t.skip(skipReason());
    const mirror = join(mirrorDir, "state.json");
    const store = secretStateStore(conn, NAMESPACE, "demo", mirror, LABELS);
    assert.deepEqual((await store.load()).components, {});
    const state: DeployState = {
      version: 1,
      project: "demo",
      components: { a: { hash: "h1", appliedAt: "t" } },
    };
    await store.save(state);
    const other = secretStateStore(conn, NAMESPACE, "demo", mirror, LABELS);
    assert.deepEqual((await other.load()).components, state.components);
    assert.equal(statSync(mirror).mode & 0o777, 0o600);
    assert.deepEqual(readStateMirror(mirror, "demo")?.components, state.components);
    await other.save({ ...state, components: { b: { hash: "h2", appliedAt: "t" } } });
    await assert.rejects(store.save(state), /was changed by someone else meanwhile/);
    const foreign = secretStateStore(conn, NAMESPACE, "other-project", join(mirrorDir, "o.json"), LABELS);
    await assert.rejects(foreign.load(), /holds the platform of project demo, not other-project/);
  });

  test("apply, a no-op deploy with zero writes, an update, and what left the file deleted except volumes", async (t) => {
    if (skipReason()) return t.skip(skipReason());
    // the state test above left project demo's state here
    await conn.objects.delete({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "atrium-state", namespace: NAMESPACE },
    });
    const store = secretStateStore(conn, NAMESPACE, "engine", join(mirrorDir, "engine.json"), LABELS);
    const counter = countWrites(conn);
    const deploy = async (objects: NamedObject[]) => {
      const state = await store.load();
      const rendered = objects.map((o) => objectComponent(conn, o));
      const components: Component[] = [
        ...rendered,
        ...leftoverComponents(conn, state, new Set(rendered.map((c) => c.name))),
      ];
      const changes = await planChanges(components, state);
      await applyChanges(components, changes, { store, state, reporter: quiet });
      return changes.map((c) => `${c.component}:${c.kind}`);
    };
    const first = [configMap("settings", { a: "1" }), claim("data"), deployment("web", "v1")];
    assert.deepEqual(await deploy(first), [
      "configmap/settings:create",
      "persistentvolumeclaim/data:create",
      "deployment/web:create",
    ]);
    const live = await conn.objects.read({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: NAMESPACE },
    });
    assert.equal(
      (live as { status?: { availableReplicas?: number } }).status?.availableReplicas,
      1,
      "deploy waited for the pod",
    );
    const managers = (live.metadata?.managedFields ?? []).map((f) => `${f.manager}/${f.operation}`);
    assert.ok(managers.includes("atrium/Apply"), `applied server-side as atrium: ${managers.join(", ")}`);

    counter.writes.length = 0;
    assert.deepEqual(await deploy(first), [
      "configmap/settings:same",
      "persistentvolumeclaim/data:same",
      "deployment/web:same",
    ]);
    assert.deepEqual([...counter.writes], [], "a no-op deploy wrote to the cluster");

    counter.writes.length = 0;
    const second = [configMap("settings", { a: "2" }), deployment("web", "v1")];
    assert.deepEqual(await deploy(second), [
      "configmap/settings:update",
      "deployment/web:same",
      "persistentvolumeclaim/data:delete",
    ]);
    assert.ok(counter.writes.includes("patch ConfigMap/settings"), counter.writes.join(", "));
    assert.ok(
      !counter.writes.some((w) => w.includes("PersistentVolumeClaim")),
      `the volume was touched: ${counter.writes.join(", ")}`,
    );
    const kept = await conn.objects.read({
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "data", namespace: NAMESPACE },
    });
    assert.equal(kept.metadata?.name, "data", "a volume with data was deleted by a deploy");

    assert.deepEqual(await deploy([deployment("web", "v1")]), [
      "deployment/web:same",
      "configmap/settings:delete",
    ]);
    await assert.rejects(
      conn.objects.read({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "settings", namespace: NAMESPACE },
      }),
      (err: unknown) => isNotFound(err),
    );
  });
});
