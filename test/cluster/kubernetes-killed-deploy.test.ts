/**
 * A deploy killed halfway on the real test cluster, and the next one: `atrium deploy` of the
 * team example is killed (SIGKILL) while it waits for the hub it has just applied. Its lock
 * stays: the next deploy is refused naming the dead holder, `atrium unlock` keeps a lease
 * renewed this recently unless forced, and with `--force` removes it. The next deploy then
 * completes what the killed one began: what it had applied and recorded is unchanged, the
 * rest is made, and the hub answers through the NodePort. On that platform (its culler set to
 * 30 s) a server spawned and left idle is stopped by the hub's idle culler. Everything it made
 * is removed afterwards, also on failure.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { AppsV1Api, CoreV1Api } from "@kubernetes/client-node";
import { type TestCluster, testCluster } from "./cluster-access.js";
import { poll } from "./pods.js";
import { platformSecret, prepareTeamSite, removeTeamSite, runAtrium, teamSite } from "./team-deploy.js";

const site = teamSite("atrium-kk");

describe("a kubernetes deploy killed halfway", () => {
  let cluster: TestCluster | string;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let stopIndex: (() => Promise<void>) | undefined;
  let killedOut = "";

  before(async () => {
    cluster = await testCluster();
    if (typeof cluster === "string") return;
    core = cluster.kc.makeApiClient(CoreV1Api);
    apps = cluster.kc.makeApiClient(AppsV1Api);
    stopIndex = (await prepareTeamSite(cluster.kc, core, site)).stop;
    const text = readFileSync(site.file, "utf8");
    const culler = "idle_culler:\n  enabled: true\n  timeout: 1h\n  every: 10m\n";
    assert.ok(text.includes(culler), "the example's idle_culler changed");
    writeFileSync(
      site.file,
      text.replace(culler, "idle_culler:\n  enabled: true\n  timeout: 30s\n  every: 10s\n"),
    );
  });

  /** What the hub's pod logged about its culler: why a server was not stopped. */
  async function cullerLines(): Promise<string> {
    const pods = await core.listNamespacedPod({
      namespace: site.namespace,
      labelSelector: "app.kubernetes.io/component=hub",
    });
    const name = pods.items[0]?.metadata?.name;
    if (name === undefined) return "(no hub pod)";
    const log = await core.readNamespacedPodLog({ name, namespace: site.namespace });
    return log
      .split("\n")
      .filter((line) => /cull/i.test(line))
      .slice(-20)
      .join("\n");
  }

  after(async () => {
    if (typeof cluster === "string") return;
    try {
      await removeTeamSite(core, site);
      await stopIndex?.();
    } finally {
      cluster.stop();
    }
  });

  test("killed while it waits for the hub, it leaves its lock", { timeout: 600_000 }, async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    const kill = new AbortController();
    let ended = false;
    const killed = runAtrium(["deploy", "-c", site.file], site.env, {
      signal: kill.signal,
      killSignal: "SIGKILL",
    }).finally(() => {
      ended = true;
    });
    try {
      await poll("the killed deploy to apply the hub's Deployment", 300, async () => {
        if (ended) assert.fail(`the deploy ended before it was killed:\n${(await killed).out}`);
        try {
          await apps.readNamespacedDeployment({ name: "hub", namespace: site.namespace });
          return true;
        } catch {
          return undefined;
        }
      });
    } finally {
      kill.abort();
    }
    const r = await killed;
    killedOut = r.out;
    assert.equal(r.killedBy, "SIGKILL", r.out);
    const refused = await runAtrium(["deploy", "-c", site.file], site.env);
    assert.notEqual(refused.code, 0, refused.out);
    assert.match(
      refused.out,
      /another deploy is running on this platform: \S+ pid \d+ \(deploy\), last renewed \d+s ago/,
    );
    assert.match(refused.out, /atrium unlock/);
    assert.doesNotMatch(refused.out, /\n\s+at /, "a stack trace");
  });

  test("atrium unlock keeps a lease renewed this recently unless forced", async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    const kept = await runAtrium(["unlock", "-c", site.file], site.env);
    assert.notEqual(kept.code, 0, kept.out);
    assert.match(kept.out, /may be working/);
    assert.match(kept.out, /atrium unlock --force/);
    const forced = await runAtrium(["unlock", "--force", "-c", site.file], site.env);
    assert.equal(forced.code, 0, forced.out);
    assert.match(
      forced.out,
      /^removed the deploy lock Lease \S+\/atrium-deploy, held by \S+ pid \d+ \(deploy\)$/m,
    );
  });

  test("the next deploy completes what the killed one began", { timeout: 1_200_000 }, async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    const r = await runAtrium(["deploy", "-c", site.file], site.env);
    assert.equal(r.code, 0, r.out);
    const m = r.out.match(/Deployed in [\d.]+s: (\d+) create, (\d+) update, (\d+) delete, (\d+) unchanged/);
    assert.ok(m, r.out);
    const [created, updated, deleted, unchanged] = m.slice(1).map(Number) as [number, number, number, number];
    t.diagnostic(`after the kill: ${created} to create, ${unchanged} unchanged`);
    assert.equal(updated + deleted, 0, r.out);
    assert.ok(unchanged >= 10, `what the killed deploy recorded was applied again:\n${r.out}`);
    assert.ok(created >= 1, r.out);
    // the first admin's password was printed once, by the killed deploy
    assert.match(killedOut, /First login: user "ada", password "/);
    assert.doesNotMatch(r.out, /First login/);
    const res = await fetch(`${site.base}/hub/api/`);
    assert.equal(res.status, 200);
    const again = await runAtrium(["deploy", "-c", site.file], site.env);
    assert.match(again.out, /0 create, 0 update, 0 delete/);
  });

  test("a server left idle is stopped by the hub's idle culler", { timeout: 600_000 }, async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    const token = await platformSecret(core, site.namespace, "atrium_api_token");
    const api = (method: string, path: string) =>
      fetch(`${site.base}/hub/api${path}`, { method, headers: { Authorization: `token ${token}` } });
    const server = async () =>
      (
        (await (await api("GET", "/users/katherine")).json()) as {
          servers?: Record<string, { ready: boolean }>;
        }
      ).servers?.[""];
    const spawned = await api("POST", "/users/katherine/server");
    assert.ok([201, 202].includes(spawned.status), `spawn: ${spawned.status} ${await spawned.text()}`);
    await poll("katherine's server to be ready", 300, async () =>
      (await server())?.ready ? true : undefined,
    );
    const ready = Date.now();
    // idle for 30 s, checked every 10 s: gone within a minute or so
    try {
      await poll("the culler to stop katherine's idle server", 240, async () =>
        (await server()) === undefined ? true : undefined,
      );
    } catch (e) {
      throw new Error(`${(e as Error).message}; the hub's culler lines:\n${await cullerLines()}`);
    }
    t.diagnostic(`stopped ${((Date.now() - ready) / 1000).toFixed(0)} s after it was ready`);
    await poll("katherine's pod to be gone", 120, async () => {
      const pods = await core.listNamespacedPod({
        namespace: site.namespace,
        labelSelector: "app.kubernetes.io/component=singleuser-server",
      });
      return pods.items.length === 0 ? true : undefined;
    });
  });
});
