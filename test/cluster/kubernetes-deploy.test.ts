/**
 * `atrium deploy` of the team example to the real test cluster, end to end: the hub's
 * environments are built in the cluster from the local package index, the first admin
 * logs in through the NodePort, a server spawned through the REST API runs a kernel as
 * the user's uid with the user's group names and home, writes its group's folder and
 * has no other group's; a second deploy changes nothing; destroy keeps the data and
 * --purge removes it. Everything it made is removed afterwards, also on failure.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { repoPath } from "../../src/paths.js";
import { cookieHeader, cookiesOf, http } from "../e2e/harness.js";
import { KernelClient } from "../e2e/kernel.js";
import { ADMIN_KUBECONFIG, adminWritesDuring, type TestCluster, testCluster } from "./cluster-access.js";
import { fetchWheels, startPackageIndex } from "./package-index.js";
import { poll } from "./pods.js";

const SUFFIX = randomBytes(3).toString("hex");
const NAMESPACE = `atrium-kd-${SUFFIX}`;
const WORK = `/var/lib/atrium-test-cluster/volumes/${NAMESPACE}`;
const PORT = 30200 + (Number.parseInt(SUFFIX, 16) % 500);
const BASE = `http://127.0.0.1:${PORT}`;
const HUB_DB_PV = `${NAMESPACE}-hub-db`;

function atrium(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [repoPath("dist", "src", "cli", "main.js"), ...args], {
      env: { ...process.env, ...env },
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.on("close", (code) => resolve({ code, out }));
  });
}

async function secretValue(core: CoreV1Api, key: string): Promise<string> {
  const s = await core.readNamespacedSecret({ name: "atrium-secrets", namespace: NAMESPACE });
  const v = s.data?.[key];
  assert.ok(v, `atrium-secrets has no ${key}`);
  return Buffer.from(v, "base64").toString("utf8");
}

async function hubApi(token: string, method: string, path: string): Promise<Response> {
  return fetch(`${BASE}/hub/api${path}`, { method, headers: { Authorization: `token ${token}` } });
}

describe("atrium deploy on the kubernetes target", () => {
  let cluster: TestCluster | string;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let stopIndex: (() => Promise<void>) | undefined;
  let file: string;
  let env: NodeJS.ProcessEnv;
  let password = "";

  before(async () => {
    cluster = await testCluster();
    if (typeof cluster === "string") return;
    kc = cluster.kc;
    core = kc.makeApiClient(CoreV1Api);
    const wheels = await fetchWheels([
      repoPath("envs", "hub", "requirements.lock"),
      repoPath("envs", "user", "requirements.lock"),
    ]);
    const index = await startPackageIndex(kc, wheels);
    stopIndex = index.stop;
    mkdirSync(join(WORK, "hub-db"), { recursive: true });
    // the hub's database volume: there is no provisioner here, so a static one bound to its claim
    await core.createPersistentVolume({
      body: {
        metadata: { name: HUB_DB_PV },
        spec: {
          capacity: { storage: "1Gi" },
          accessModes: ["ReadWriteOnce"],
          persistentVolumeReclaimPolicy: "Retain",
          storageClassName: "atrium-test-static",
          claimRef: { namespace: NAMESPACE, name: "hub-db" },
          hostPath: { path: join(WORK, "hub-db"), type: "Directory" },
        },
      },
    });
    const example = readFileSync(repoPath("examples", "team-kubernetes.yaml"), "utf8");
    const text = example
      .replace(
        "  type: kubernetes\n  namespace: team\n",
        `  type: kubernetes\n  context: atrium-test\n  namespace: ${NAMESPACE}\n  index_url: ${index.url}\n`,
      )
      .replace("  https:\n    mode: self-signed\n", "  https:\n    mode: none\n")
      .replace("path: /srv/atrium/team", `path: ${join(WORK, "shared")}`)
      .replace("port: 30080", `port: ${PORT}`)
      // one node here: nothing carries the highmem pool's label
      .replace("    node_pool: highmem\n", "");
    file = join(WORK, "atrium.yaml");
    writeFileSync(file, text);
    env = { KUBECONFIG: ADMIN_KUBECONFIG, XDG_STATE_HOME: join(WORK, "state") };
  });

  after(async () => {
    if (typeof cluster === "string") return;
    try {
      await core.deleteNamespace({ name: NAMESPACE }).catch(() => {});
      await poll(`namespace ${NAMESPACE} to go`, 180, async () => {
        try {
          await core.readNamespace({ name: NAMESPACE });
          return undefined;
        } catch {
          return true;
        }
      });
      for (const pv of [HUB_DB_PV, `atrium-${NAMESPACE}-shared`]) {
        await core.deletePersistentVolume({ name: pv }).catch(() => {});
      }
      await stopIndex?.();
    } finally {
      rmSync(WORK, { recursive: true, force: true });
      cluster.stop();
    }
  });

  test("deploys, printing the first admin's password once", { timeout: 1_200_000 }, async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    const started = Date.now();
    const r = await atrium(["deploy", "-c", file], env);
    assert.equal(r.code, 0, r.out);
    t.diagnostic(`first deploy to a ready hub took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const m = r.out.match(/First login: user "ada", password "([^"]+)"/);
    assert.ok(m?.[1], r.out);
    password = m[1];
    assert.equal(await secretValue(core, "initial-password-ada"), password);
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
    const admin = await secretValue(core, "atrium_api_token");
    const spawned = await hubApi(admin, "POST", "/users/grace/server");
    assert.ok([201, 202].includes(spawned.status), `spawn: ${spawned.status} ${await spawned.text()}`);
    await poll("grace's server to be ready", 300, async () => {
      const u = (await (await hubApi(admin, "GET", "/users/grace")).json()) as {
        servers?: Record<string, { ready: boolean }>;
      };
      return u.servers?.[""]?.ready ? true : undefined;
    });
    const tokenRes = await hubApi(admin, "POST", "/users/grace/tokens");
    assert.equal(tokenRes.status, 201);
    const { token } = (await tokenRes.json()) as { token: string };
    const kernel = await KernelClient.start(`${BASE}/user/grace`, token, 180_000);
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
      const ids = JSON.parse(
        readFileSync(join(WORK, "state", "atrium", "kubernetes", "atrium-test", `${NAMESPACE}.json`), "utf8"),
      ) as {
        components: { identities: { data: { users: Record<string, number> } } };
      };
      assert.equal(who, `grace ${ids.components.identities.data.users.grace}`);
      assert.equal(groups, "['grace', 'modelers']");
      assert.equal(home, "/home/grace 0o700");
      assert.equal(owner, "modelers");
      assert.match(other ?? "", /^refused /);
    } finally {
      kernel.close();
    }
  });

  test("a second deploy changes nothing and keeps the server running", async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    const pod = await core.readNamespacedPod({ name: "jupyter-grace", namespace: NAMESPACE });
    const started = Date.now();
    let r = { code: null as number | null, out: "" };
    const writes = await adminWritesDuring(
      async () => {
        r = await atrium(["deploy", "-c", file], env);
      },
      (uri) =>
        uri.includes(NAMESPACE) || uri.includes("atrium-probe-") || /^\/api\/v1\/[a-z]+(\?|$)/.test(uri),
    );
    assert.equal(r.code, 0, r.out);
    t.diagnostic(`no-op redeploy took ${((Date.now() - started) / 1000).toFixed(2)} s`);
    assert.match(r.out, /0 create, 0 update, 0 delete/);
    assert.deepEqual(writes, [], "the no-op deploy wrote to the cluster");
    const again = await core.readNamespacedPod({ name: "jupyter-grace", namespace: NAMESPACE });
    assert.equal(again.metadata?.uid, pod.metadata?.uid, "the user's pod was replaced");
  });

  test("destroy stops everything and keeps the data; --purge removes it", { timeout: 600_000 }, async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    const kept = await atrium(["destroy", "--yes", "-c", file], env);
    assert.equal(kept.code, 0, kept.out);
    await poll("the platform's pods to stop", 180, async () => {
      const pods = await core.listNamespacedPod({ namespace: NAMESPACE });
      return pods.items.some((p) => p.status?.phase === "Running") ? undefined : true;
    });
    await core.readNamespacedPersistentVolumeClaim({ name: "shared", namespace: NAMESPACE });
    assert.ok(existsSync(join(WORK, "shared", "shared", "modelers", "from-grace")), "destroy lost a file");
    const purged = await atrium(["destroy", "--purge", "--yes", "-c", file], env);
    assert.equal(purged.code, 0, purged.out);
    await assert.rejects(core.readNamespace({ name: NAMESPACE }));
    assert.deepEqual(readdirSync(join(WORK, "shared")), [], "purge left data on the volume");
  });
});
