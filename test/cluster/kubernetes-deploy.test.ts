/**
 * `atrium deploy` of the team example to the real test cluster, end to end: the hub's
 * environments are built in the cluster from the local package index, the first admin
 * logs in through the NodePort, a server spawned through the REST API runs a kernel as
 * the user's uid with the user's group names and home, writes its group's folder and
 * has no other group's; the file's environments, built by deploy, are among her kernels, and
 * one she builds through the environment service's API appears as a kernel in her running
 * server, root's, with another user's kernels out of her reach; a kernel allocating past its profile's memory limit is killed
 * and its server lives on; a modeler's `large` server lands on the highmem pool (the
 * node carries the pool's labels for the length of the test); a user outside modelers
 * asking for `large` is refused and gets no pod; a second deploy changes nothing; a
 * deploy adding a user and a group keeps the running server and gives the new user a
 * home and the new group's folder; the admin logs in with a real browser and sees
 * JupyterLab; destroy keeps the data and --purge removes it. Everything it made (the
 * namespace, volumes, the node's labels) is removed afterwards, also on failure.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  CoreV1Api,
  type KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  type V1Pod,
} from "@kubernetes/client-node";
import type { Browser } from "playwright-core";
import { chromiumMissing, launchChromium, logInThroughForm } from "../e2e/chromium.js";
import { cookieHeader, cookiesOf, http, sleep } from "../e2e/harness.js";
import { KernelClient, memoryHogCell } from "../e2e/kernel.js";
import { adminWritesDuring, type TestCluster, testCluster } from "./cluster-access.js";
import { poll } from "./pods.js";
import { siteHub } from "./site-hub.js";
import { platformSecret, prepareTeamSite, removeTeamSite, runAtrium, teamSite } from "./team-deploy.js";

const site = teamSite("atrium-kd");
const { namespace: NAMESPACE, work: WORK, base: BASE } = site;
const NODE = "atrium-test";
/** The team example's highmem pool: the node carries these labels while the test runs (no taint: the node is shared). */
const HIGHMEM_LABELS = { "hub.jupyter.org/node-purpose": "user", "atrium.dev/pool": "highmem" };
const GiB = 2 ** 30;
/** The small profile's mem_limit in the team example. */
const SMALL_LIMIT = 2 * GiB;

const hub = siteHub(BASE);
const hubApi = hub.api;
const { userToken, spawnReady } = hub;

/** Sets (a string) or removes (null) labels on the node with a merge patch. */
async function labelNode(kc: KubeConfig, labels: Record<string, string | null>): Promise<void> {
  await KubernetesObjectApi.makeApiClient(kc).patch(
    { apiVersion: "v1", kind: "Node", metadata: { name: NODE, labels: labels as Record<string, string> } },
    undefined,
    undefined,
    undefined,
    undefined,
    PatchStrategy.MergePatch,
  );
}

/** The uids and gids Atrium's state recorded for the deploy. */
function identities(): { users: Record<string, number>; groups: Record<string, number> } {
  const state = JSON.parse(
    readFileSync(join(WORK, "state", "atrium", "kubernetes", "atrium-test", `${NAMESPACE}.json`), "utf8"),
  ) as {
    components: { identities: { data: { users: Record<string, number>; groups: Record<string, number> } } };
  };
  return state.components.identities.data;
}

function idOf(ids: Record<string, number>, name: string): number {
  const id = ids[name];
  assert.ok(id !== undefined, `no id recorded for ${name}`);
  return id;
}

/** The user server's container (KubeSpawner names it "notebook"). */
function serverContainer(pod: V1Pod) {
  const c = pod.status?.containerStatuses?.find((s) => s.name === "notebook");
  assert.ok(c, `pod ${pod.metadata?.name} has no notebook container: ${JSON.stringify(pod.status)}`);
  return c;
}

/**
 * `atrium deploy`, and the writes it made to this platform's objects, the probe's namespace or
 * cluster-wide ones, as the API server's audit log recorded them.
 */
async function deployCountingWrites(file: string, env: NodeJS.ProcessEnv) {
  let r: Awaited<ReturnType<typeof runAtrium>> | undefined;
  const writes = await adminWritesDuring(
    async () => {
      r = await runAtrium(["deploy", "-c", file], env);
    },
    (uri) => uri.includes(NAMESPACE) || uri.includes("atrium-probe-") || /^\/api\/v1\/[a-z]+(\?|$)/.test(uri),
  );
  assert.ok(r);
  return { r, writes };
}

describe("atrium deploy on the kubernetes target", () => {
  let cluster: TestCluster | string;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let stopIndex: (() => Promise<void>) | undefined;
  let file: string;
  let env: NodeJS.ProcessEnv;
  let password = "";
  let graceToken = "";
  let browser: Browser | undefined;
  /** The node's values of the pool labels before the test, to put back (null: it had none). */
  let labelsBefore: Record<string, string | null> | undefined;

  before(async () => {
    cluster = await testCluster();
    if (typeof cluster === "string") return;
    kc = cluster.kc;
    core = kc.makeApiClient(CoreV1Api);
    const node = await core.readNode({ name: NODE });
    labelsBefore = Object.fromEntries(
      Object.keys(HIGHMEM_LABELS).map((k) => [k, node.metadata?.labels?.[k] ?? null]),
    );
    await labelNode(kc, HIGHMEM_LABELS);
    const index = await prepareTeamSite(kc, core, site);
    stopIndex = index.stop;
    file = site.file;
    assert.match(
      readFileSync(file, "utf8"),
      /cpu_guarantee: 0\.1\n {4}mem_limit: 16Gi\n[\s\S]*node_pool: highmem\n/,
      "the example's large profile changed",
    );
    env = site.env;
  });

  after(async () => {
    if (typeof cluster === "string") return;
    try {
      await browser?.close();
      if (labelsBefore) await labelNode(kc, labelsBefore);
      await removeTeamSite(core, site);
      await stopIndex?.();
    } finally {
      cluster.stop();
    }
  });

  test("deploys, printing the first admin's password once", { timeout: 1_200_000 }, async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    const started = Date.now();
    const r = await runAtrium(["deploy", "-c", file], env);
    assert.equal(r.code, 0, r.out);
    t.diagnostic(`first deploy to a ready hub took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const m = r.out.match(/First login: user "ada", password "([^"]+)"/);
    assert.ok(m?.[1], r.out);
    password = m[1];
    assert.equal(await platformSecret(core, NAMESPACE, "initial-password-ada"), password);
  });

  test("the admin logs in through the NodePort with that password", async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    // node:http, as a browser's form navigation (fetch's Sec-Fetch-Mode gets no _xsrf cookie)
    const page = await http(`${BASE}/hub/login`);
    assert.equal(page.status, 200);
    const jar = cookiesOf(page.setCookies);
    const xsrf = jar.get("_xsrf") ?? "";
    assert.ok(xsrf, "no _xsrf cookie on the login page");
    const login = (pw: string) =>
      http(`${BASE}/hub/login?next=`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Cookie: cookieHeader(jar) },
        body: new URLSearchParams({ username: "ada", password: pw, _xsrf: xsrf }).toString(),
      });
    const good = await login(password);
    assert.equal(good.status, 302);
    assert.ok(cookiesOf(good.setCookies).has("jupyterhub-session-id"), "no session cookie");
    const bad = await login(`${password}x`);
    assert.notEqual(bad.status, 302, "a wrong password logged in");
  });

  test("a REST spawn runs a kernel as the user: uid, group names, HOME, group folders", {
    timeout: 600_000,
  }, async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    const admin = await platformSecret(core, NAMESPACE, "atrium_api_token");
    await spawnReady(admin, "grace");
    graceToken = await userToken(admin, "grace");
    const kernel = await KernelClient.start(`${BASE}/user/grace`, graceToken, 180_000);
    try {
      const r = await kernel.execute(
        [
          "import grp, os, pwd",
          "print(pwd.getpwuid(os.getuid()).pw_name, os.getuid())",
          "print(sorted(grp.getgrgid(g).gr_name for g in os.getgroups()))",
          "print(os.environ['HOME'], oct(os.stat(os.environ['HOME']).st_mode & 0o777))",
          "open('/shared/modelers/from-grace', 'w').write('hi')",
          "print(grp.getgrgid(os.stat('/shared/modelers/from-grace').st_gid).gr_name)",
          "try:",
          "    open('/shared/analysts/from-grace', 'w')",
          "    print('wrote analysts')",
          "except OSError as e:",
          "    print('refused', type(e).__name__)",
        ].join("\n"),
        120_000,
      );
      assert.equal(r.status, "ok", `${r.error?.ename}: ${r.error?.evalue}`);
      const [who, groups, home, owner, other] = r.stdout.trim().split("\n");
      assert.equal(who, `grace ${idOf(identities().users, "grace")}`);
      assert.equal(groups, "['grace', 'modelers']");
      assert.equal(home, "/home/grace 0o700");
      assert.equal(owner, "modelers");
      assert.match(other ?? "", /^refused /);
    } finally {
      kernel.close();
    }
  });

  test("an environment the user builds through the environment service appears as a kernel in her running server", {
    timeout: 900_000,
  }, async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    const envsApi = (method: string, path: string, body?: unknown) =>
      http(`${BASE}/services/envs/api/v1/${path}`, {
        method,
        headers: { Authorization: `token ${graceToken}`, "Content-Type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const kernelspecs = async () => {
      const r = await http(`${BASE}/user/grace/api/kernelspecs`, {
        headers: { Authorization: `token ${graceToken}` },
      });
      assert.equal(r.status, 200, r.text);
      return Object.keys((JSON.parse(r.text) as { kernelspecs: Record<string, unknown> }).kernelspecs);
    };
    // the file's environments, built by deploy: the global one and her group's
    const listed = await kernelspecs();
    for (const name of ["global.analytics", "modelers.ml"])
      assert.ok(listed.includes(name), `${name}: ${listed}`);
    const posted = await envsApi("POST", "specification/", {
      namespace: "grace",
      environment_name: "mine",
      specification: "dependencies:\n  - pyyaml\n",
    });
    assert.equal(posted.status, 200, posted.text);
    const id = (JSON.parse(posted.text) as { data: { build_id: number } }).data.build_id;
    const build = await poll(`build ${id}`, 600, async () => {
      const b = (JSON.parse((await envsApi("GET", `build/${id}/`)).text) as { data: { status: string } })
        .data;
      return ["QUEUED", "BUILDING"].includes(b.status) ? undefined : b;
    });
    if (build.status !== "COMPLETED")
      assert.fail(`build ${id}: ${(await envsApi("GET", `build/${id}/logs/`)).text}`);
    await poll("grace.mine among grace's kernels", 60, async () =>
      (await kernelspecs()).includes("grace.mine") ? true : undefined,
    );
    const kernel = await KernelClient.start(`${BASE}/user/grace`, graceToken, 180_000, "grace.mine");
    try {
      const r = await kernel.execute(
        [
          "import os, sys, yaml",
          "print(sys.prefix)",
          "print(os.stat(sys.prefix).st_uid)",
          // another user's kernels, and writing into the environments: both refused
          "for attempt in (lambda: os.listdir('/opt/atrium/envs/managed/.kernels/ada'),",
          "                lambda: open(os.path.join(sys.prefix, 'planted'), 'w')):",
          "    try:",
          "        attempt()",
          "        print('allowed')",
          "    except OSError as e:",
          "        print('refused', type(e).__name__)",
        ].join("\n"),
        120_000,
      );
      assert.equal(r.status, "ok", `${r.error?.ename}: ${r.error?.evalue}\n${r.stderr}`);
      const [prefix, owner, otherKernels, plant] = r.stdout.trim().split("\n");
      assert.equal(prefix, "/opt/atrium/envs/managed/grace/mine/current");
      assert.equal(owner, "0", "the environment is not root's");
      assert.match(otherKernels ?? "", /^refused /, "grace listed ada's kernels");
      assert.match(plant ?? "", /^refused /, "grace wrote into her environment");
    } finally {
      kernel.close();
    }
    // the admin's view from the command line, through the platform's address
    const listed2 = await runAtrium(["env", "list", "-c", file, "--json"], env);
    assert.equal(listed2.code, 0, listed2.out);
    const names = (JSON.parse(listed2.out) as Array<{ namespace: { name: string }; name: string }>)
      .map((e) => `${e.namespace.name}/${e.name}`)
      .sort();
    assert.deepEqual(names, ["global/analytics", "grace/mine", "modelers/ml"]);
  });

  test("a kernel allocating past the small profile's memory limit is killed; the server pod keeps running", {
    timeout: 600_000,
  }, async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    const pod = await core.readNamespacedPod({ name: "jupyter-grace", namespace: NAMESPACE });
    // KubeSpawner writes the limit in bytes
    assert.equal(Number(pod.spec?.containers[0]?.resources?.limits?.memory), SMALL_LIMIT);
    const restartsBefore = serverContainer(pod).restartCount;
    // the container's own memory cgroup (v1 here), as the kernel sees it
    const cgroupNow = [
      "import os, re",
      "limit = open('/sys/fs/cgroup/memory/memory.limit_in_bytes').read().strip()",
      "kills = re.search(r'oom_kill (\\d+)', open('/sys/fs/cgroup/memory/memory.oom_control').read()).group(1)",
      "print(os.getpid(), limit, kills)",
    ].join("\n");
    let kernel = await KernelClient.start(`${BASE}/user/grace`, graceToken, 180_000);
    try {
      const first = await kernel.execute(cgroupNow, 60_000);
      assert.equal(first.status, "ok", `${first.error?.ename}: ${first.error?.evalue}`);
      const [pid, limit, killsBefore] = first.stdout.trim().split(" ").map(Number);
      assert.equal(limit, SMALL_LIMIT, "the server's cgroup does not have the profile's limit");

      // 3 GiB, more than the 2 GiB limit
      const hog = await kernel.execute(memoryHogCell(3 * GiB), 180_000);
      assert.equal(hog.status, "no-reply", `the kernel was not stopped by the limit: ${JSON.stringify(hog)}`);
      assert.ok(!hog.stdout.includes("survived"), hog.stdout);
      assert.ok(
        kernel.states.includes("restarting") || kernel.states.includes("dead") || kernel.closed,
        `no sign of the kernel dying; states: ${kernel.states.join(",")}`,
      );

      // the same pod, its server container not restarted, the server answering through the proxy
      const again = await core.readNamespacedPod({ name: "jupyter-grace", namespace: NAMESPACE });
      assert.equal(again.metadata?.uid, pod.metadata?.uid, "the server's pod was replaced");
      assert.equal(again.status?.phase, "Running");
      assert.equal(serverContainer(again).restartCount, restartsBefore, "the server container restarted");
      const api = await fetch(`${BASE}/user/grace/api`, {
        headers: { Authorization: `token ${graceToken}` },
      });
      assert.equal(api.status, 200, "the server does not answer after its kernel was killed");

      // the kernel came back as a new process; the cgroup's OOM killer is what stopped the old one
      kernel.close();
      kernel = await KernelClient.connect(`${BASE}/user/grace`, graceToken, kernel.id, 120_000);
      const after = await kernel.execute(cgroupNow, 60_000);
      assert.equal(after.status, "ok", `${after.error?.ename}: ${after.error?.evalue}`);
      const [newPid, , killsAfter] = after.stdout.trim().split(" ").map(Number);
      assert.notEqual(newPid, pid, "the kernel did not restart");
      assert.ok(
        (killsAfter ?? 0) > (killsBefore ?? 0),
        `the cgroup's OOM killer did not act (${killsBefore} -> ${killsAfter})`,
      );
    } finally {
      kernel.close();
    }
  });

  test("a modeler's large server runs on the highmem pool's node, with its selector and tolerations", {
    timeout: 600_000,
  }, async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    const admin = await platformSecret(core, NAMESPACE, "atrium_api_token");
    await spawnReady(admin, "alan", { profile: "large" });
    const pod = await core.readNamespacedPod({ name: "jupyter-alan", namespace: NAMESPACE });
    assert.deepEqual(pod.spec?.nodeSelector, HIGHMEM_LABELS);
    assert.ok(
      pod.spec?.tolerations?.some(
        (tol) =>
          tol.key === "atrium.dev/pool" &&
          tol.operator === "Equal" &&
          tol.value === "highmem" &&
          tol.effect === "NoSchedule",
      ),
      `the pool's taint is not tolerated: ${JSON.stringify(pod.spec?.tolerations)}`,
    );
    const resources = pod.spec?.containers[0]?.resources;
    assert.deepEqual(resources?.limits, { cpu: "2", memory: String(16 * GiB) });
    assert.deepEqual(resources?.requests, { cpu: "100m", memory: String(4 * GiB) });
    assert.equal(pod.spec?.nodeName, NODE);
    assert.equal(pod.status?.phase, "Running");
    // the default profile names no pool: grace's pod may go anywhere
    const grace = await core.readNamespacedPod({ name: "jupyter-grace", namespace: NAMESPACE });
    assert.deepEqual(grace.spec?.nodeSelector ?? {}, {});
    // its 4Gi request is not needed later: stop it
    const stopped = await hubApi(admin, "DELETE", "/users/alan/server");
    assert.ok([202, 204].includes(stopped.status), `stopping alan's server: ${stopped.status}`);
    await poll("alan's pod to go", 120, async () => {
      const pods = await core.listNamespacedPod({ namespace: NAMESPACE });
      return pods.items.some((p) => p.metadata?.name === "jupyter-alan") ? undefined : true;
    });
  });

  test("a user outside modelers asking for the large profile is refused, and no pod appears", async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    const admin = await platformSecret(core, NAMESPACE, "atrium_api_token");
    const token = await userToken(admin, "katherine");
    const refused = await hubApi(token, "POST", "/users/katherine/server", { profile: "large" });
    const text = await refused.text();
    assert.equal(refused.status, 403, `spawning a forbidden profile answered ${refused.status}: ${text}`);
    assert.match(text, /large/);
    await sleep(3000);
    const u = (await (await hubApi(admin, "GET", "/users/katherine")).json()) as {
      servers?: Record<string, unknown>;
    };
    assert.deepEqual(u.servers ?? {}, {}, "katherine got a server anyway");
    const pods = await core.listNamespacedPod({ namespace: NAMESPACE });
    const names = pods.items.map((p) => p.metadata?.name ?? "");
    assert.ok(!names.includes("jupyter-katherine"), `a pod was made: ${names.join(", ")}`);
  });

  test("a second deploy changes nothing and keeps the server running", async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    const pod = await core.readNamespacedPod({ name: "jupyter-grace", namespace: NAMESPACE });
    const started = Date.now();
    const { r, writes } = await deployCountingWrites(file, env);
    assert.equal(r.code, 0, r.out);
    t.diagnostic(`no-op redeploy took ${((Date.now() - started) / 1000).toFixed(2)} s`);
    assert.match(r.out, /0 create, 0 update, 0 delete/);
    assert.deepEqual(writes, [], "the no-op deploy wrote to the cluster");
    const again = await core.readNamespacedPod({ name: "jupyter-grace", namespace: NAMESPACE });
    assert.equal(again.metadata?.uid, pod.metadata?.uid, "the user's pod was replaced");
  });

  test("a deploy adding a user and a group keeps the running server; the new user gets a home and the group's folder", {
    timeout: 900_000,
  }, async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    const pod = await core.readNamespacedPod({ name: "jupyter-grace", namespace: NAMESPACE });
    const text = readFileSync(file, "utf8");
    const edited = text.replace(
      "\n\nusers:\n",
      "\n  - name: viz\n    description: Visualisation\n\nusers:\n  - name: dave\n    groups: [viz]\n",
    );
    assert.notEqual(edited, text, "the file's users list was not found");
    writeFileSync(file, edited);
    const started = Date.now();
    const { r, writes } = await deployCountingWrites(file, env);
    assert.equal(r.code, 0, r.out);
    // the same count sees a deploy that changes something: the no-op's zero is not a blind counter
    assert.ok(
      writes.some((w) => w.startsWith("patch ") && w.includes("/configmaps/hub-settings")),
      `the audit log shows no write of the hub's settings: ${writes.join(", ")}`,
    );
    t.diagnostic(`redeploy with a new user and group took ${((Date.now() - started) / 1000).toFixed(1)} s`);

    const again = await core.readNamespacedPod({ name: "jupyter-grace", namespace: NAMESPACE });
    assert.equal(again.metadata?.uid, pod.metadata?.uid, "the redeploy replaced grace's pod");
    assert.equal(again.status?.phase, "Running");
    const api = await fetch(`${BASE}/user/grace/api`, { headers: { Authorization: `token ${graceToken}` } });
    assert.equal(api.status, 200, "grace's server does not answer after the redeploy");

    const admin = await platformSecret(core, NAMESPACE, "atrium_api_token");
    await spawnReady(admin, "dave");
    const token = await userToken(admin, "dave");
    const kernel = await KernelClient.start(`${BASE}/user/dave`, token, 180_000);
    try {
      const out = await kernel.execute(
        [
          "import grp, os, subprocess",
          "print(subprocess.run(['id'], capture_output=True, text=True, check=True).stdout.strip())",
          "home = os.stat(os.environ['HOME'])",
          "print(os.environ['HOME'], oct(home.st_mode & 0o7777), home.st_uid)",
          "viz = os.stat('/shared/viz')",
          "print(oct(viz.st_mode & 0o7777), viz.st_uid, grp.getgrgid(viz.st_gid).gr_name)",
          "open('/shared/viz/from-dave', 'w').write('hi')",
          "print(grp.getgrgid(os.stat('/shared/viz/from-dave').st_gid).gr_name)",
        ].join("\n"),
        120_000,
      );
      assert.equal(out.status, "ok", `${out.error?.ename}: ${out.error?.evalue}`);
      const ids = identities();
      const uid = idOf(ids.users, "dave");
      const gid = idOf(ids.groups, "viz");
      const [id, home, folder, owner] = out.stdout.trim().split("\n");
      assert.equal(id, `uid=${uid}(dave) gid=${uid}(dave) groups=${uid}(dave),${gid}(viz)`);
      assert.equal(home, `/home/dave 0o700 ${uid}`);
      assert.equal(folder, "0o2770 0 viz");
      assert.equal(owner, "viz");
    } finally {
      kernel.close();
    }
  });

  test("the admin logs in with a real browser through the NodePort and sees JupyterLab with its video chat rooms", {
    skip: chromiumMissing,
    timeout: 600_000,
  }, async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(60_000);
      await logInThroughForm(page, BASE, "ada", password);
      await page.goto(`${BASE}/hub/spawn/ada`);
      const radios = page.locator('input[name="profile"]');
      assert.deepEqual(await radios.evaluateAll((els) => els.map((e) => (e as HTMLInputElement).value)), [
        "small",
        "medium",
        "large",
      ]);
      const small = page.locator('input[name="profile"][value="small"]');
      assert.equal(await small.isChecked(), true, "the default profile is not preselected");
      await page.locator('form input[type="submit"], form button[type="submit"]').first().click();
      await page.waitForURL(/\/user\/ada\/lab/, { timeout: 300_000 });
      await page.locator(".jp-LabShell").waitFor({ state: "visible", timeout: 180_000 });
      await page.locator(".jp-Launcher").first().waitFor({ state: "visible", timeout: 120_000 });
      const pod = await core.readNamespacedPod({ name: "jupyter-ada", namespace: NAMESPACE });
      assert.equal(pod.status?.phase, "Running");
      // video chat as on one machine: the extension from the user env, the rooms from the hub
      await page.locator(".jp-LauncherCard", { hasText: "Video Chat" }).click();
      const rooms = page.locator(".atrium-VideoChat-room");
      await rooms.first().waitFor({ state: "visible", timeout: 60_000 });
      const listed = await rooms.evaluateAll((els) =>
        els.map((e) => `${(e as HTMLElement).dataset.kind}:${(e as HTMLElement).dataset.room}`),
      );
      // ada's groups (ops, modelers) and the file's one open room
      assert.equal(listed.length, 3, listed.join(", "));
      assert.ok(
        listed.some((r) => /^room:.*standup/.test(r)),
        listed.join(", "),
      );
      assert.ok(
        listed.some((r) => /^group:.*modelers/.test(r)),
        listed.join(", "),
      );
    } finally {
      await context.close();
    }
  });

  test("destroy stops everything and keeps the data; --purge removes it", { timeout: 600_000 }, async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    const kept = await runAtrium(["destroy", "--yes", "-c", file], env);
    assert.equal(kept.code, 0, kept.out);
    await poll("the platform's pods to stop", 180, async () => {
      const pods = await core.listNamespacedPod({ namespace: NAMESPACE });
      return pods.items.some((p) => p.status?.phase === "Running") ? undefined : true;
    });
    await core.readNamespacedPersistentVolumeClaim({ name: "shared", namespace: NAMESPACE });
    assert.ok(existsSync(join(WORK, "shared", "shared", "modelers", "from-grace")), "destroy lost a file");
    const purged = await runAtrium(["destroy", "--purge", "--yes", "-c", file], env);
    assert.equal(purged.code, 0, purged.out);
    await assert.rejects(core.readNamespace({ name: NAMESPACE }));
    assert.deepEqual(readdirSync(join(WORK, "shared")), [], "purge left data on the volume");
  });
});
