/**
 * Single sign-on on the real test cluster, through a real OpenID Connect provider (the npm
 * `oidc-provider`, as in the one-machine test). The provider runs on the host at the cluster
 * bridge's address, which the browser on the host and the hub's pod both reach: the test
 * cluster drops every pod connection to the host but the API server's, so the test lets
 * exactly the provider's port through for its duration (a team's provider is reachable from
 * its cluster), and removes that rule again, also on failure.
 *
 * Deploy without the client secret is refused before anything is made; with it, the secret is
 * in the Secret `oidc-client` only (not in any other object, the state or deploy's output);
 * a user the file lists logs in with a real browser and is admin by the provider's admin
 * group; someone the file does not list is refused even in that group; a no-op redeploy
 * changes nothing; a new secret shows in plan as a hub restart and restarts it. Everything the
 * test made is removed afterwards.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { AppsV1Api, CoreV1Api } from "@kubernetes/client-node";
import type { Browser, Page } from "playwright-core";
import { chromiumMissing, launchChromium } from "../e2e/chromium.js";
import { freePorts } from "../e2e/harness.js";
import { startProvider, type TestProvider } from "../e2e/oidc-provider.js";
import { type TestCluster, testCluster } from "./cluster-access.js";
import { poll } from "./pods.js";
import { platformSecret, prepareTeamSite, removeTeamSite, runAtrium, teamSite } from "./team-deploy.js";

const site = teamSite("atrium-ko");
/** The cluster bridge's address on the host: the node's, and where the provider listens. */
const BRIDGE_IP = "10.244.0.1";
const SECRET_ENV = "ATRIUM_K8S_OIDC_SECRET";
const DIGEST_ANNOTATION = "atrium.dev/oidc-client-secret-digest";

/** The one rule that lets pods reach the provider's port on the host (host-net.sh drops the rest). */
function providerRule(op: "-I" | "-D", port: number): void {
  const where = op === "-I" ? ["ATRIUM-TC-INPUT", "1"] : ["ATRIUM-TC-INPUT"];
  execFileSync("iptables", [
    "-t",
    "mangle",
    op,
    ...where,
    "-d",
    BRIDGE_IP,
    "-p",
    "tcp",
    "--dport",
    `${port}`,
    "-j",
    "RETURN",
  ]);
}

describe("single sign-on on the kubernetes target", { skip: chromiumMissing }, () => {
  let cluster: TestCluster | string;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let stopIndex: (() => Promise<void>) | undefined;
  let idp: TestProvider | undefined;
  let idpPort = 0;
  let ruleAdded = false;
  let browser: Browser | undefined;

  before(async () => {
    cluster = await testCluster();
    if (typeof cluster === "string") return;
    core = cluster.kc.makeApiClient(CoreV1Api);
    apps = cluster.kc.makeApiClient(AppsV1Api);
    stopIndex = (await prepareTeamSite(cluster.kc, core, site)).stop;
    [idpPort] = (await freePorts(1, { from: 20_000, to: 29_000 })) as [number];
    idp = await startProvider({
      port: idpPort,
      host: BRIDGE_IP,
      redirectUri: `${site.base}/hub/oauth_callback`,
      accounts: [
        { login: "ada", password: "ada-pass", username: "ada", groups: ["platform-admins"] },
        { login: "grace", password: "grace-pass", username: "grace", groups: [] },
        // in the admin group, but not in the file: a cluster makes no account at login
        { login: "mallory", password: "mallory-pass", username: "mallory", groups: ["platform-admins"] },
      ],
    });
    providerRule("-I", idpPort);
    ruleAdded = true;
    const text = readFileSync(site.file, "utf8");
    const environments = text.indexOf("\nenvironments:\n");
    const dask = text.indexOf("\ndask:\n");
    assert.ok(text.includes("auth:\n  type: password\n") && environments > 0 && dask > environments);
    writeFileSync(
      site.file,
      // no environments: this test is about logins, and each build costs a minute
      `${text.slice(0, environments)}${text.slice(dask)}`.replace(
        "auth:\n  type: password\n",
        `auth:\n  type: oidc\n  issuer: ${idp.issuer}\n  client_id: ${idp.clientId}\n` +
          `  client_secret_env: ${SECRET_ENV}\n  scopes: [openid, profile, groups]\n  admin_groups: [platform-admins]\n`,
      ),
    );
  });

  after(async () => {
    if (typeof cluster === "string") return;
    try {
      await browser?.close();
      await idp?.close();
      if (ruleAdded) providerRule("-D", idpPort);
      await removeTeamSite(core, site);
      await stopIndex?.();
    } finally {
      cluster.stop();
    }
  });

  const withSecret = (secret: string) => ({ ...site.env, [SECRET_ENV]: secret });

  async function hubTemplate() {
    const d = await apps.readNamespacedDeployment({ name: "hub", namespace: site.namespace });
    return d.spec?.template;
  }

  /** Through the hub's login page and the provider's; the response to the hub's callback. */
  async function ssoLogin(login: string, password: string): Promise<{ page: Page; status: number }> {
    assert.ok(browser);
    const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
    const page = await context.newPage();
    page.setDefaultTimeout(60_000);
    await page.goto(`${site.base}/hub/login`);
    await page.getByRole("button", { name: /Sign in with/ }).click();
    await page.waitForURL((u) => u.port === `${idpPort}`);
    assert.match(await page.title(), /Test identity provider: sign in/);
    await page.fill("#login", login);
    await page.fill("#password", password);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().startsWith(`${site.base}/hub/oauth_callback`)),
      page.click("#submit"),
    ]);
    await page.waitForLoadState();
    return { page, status: response.status() };
  }

  test("refuses to deploy without the client secret, naming the variable, before making anything", async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    const r = await runAtrium(["deploy", "-c", site.file], { ...site.env, [SECRET_ENV]: "" });
    assert.notEqual(r.code, 0, r.out);
    assert.match(
      r.out,
      new RegExp(`\\$${SECRET_ENV} \\(auth\\.client_secret_env\\) is not set; nothing was changed`),
    );
    assert.doesNotMatch(r.out, /\n\s+at /, "a stack trace");
    const namespaces = (await core.listNamespace()).items.map((n) => n.metadata?.name);
    assert.ok(!namespaces.includes(site.namespace), "deploy made the namespace");
  });

  test("deploys with the secret in the Secret oidc-client only", { timeout: 1_200_000 }, async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    assert.ok(idp);
    const r = await runAtrium(["deploy", "-c", site.file], withSecret(idp.clientSecret));
    assert.equal(r.code, 0, r.out);
    assert.doesNotMatch(r.out, new RegExp(idp.clientSecret));
    const s = await core.readNamespacedSecret({ name: "oidc-client", namespace: site.namespace });
    assert.equal(Buffer.from(s.data?.client_secret ?? "", "base64").toString(), idp.clientSecret);
    const template = await hubTemplate();
    const env = template?.spec?.containers.find((c) => c.name === "hub")?.env ?? [];
    assert.deepEqual(
      { ...env.find((e) => e.name === SECRET_ENV)?.valueFrom?.secretKeyRef },
      {
        name: "oidc-client",
        key: "client_secret",
      },
    );
    // the value is nowhere else: not in the objects Atrium made, nor in its state
    const configMaps = await core.listNamespacedConfigMap({ namespace: site.namespace });
    const deployments = await apps.listNamespacedDeployment({ namespace: site.namespace });
    const state = await core.readNamespacedSecret({ name: "atrium-state", namespace: site.namespace });
    const stateText = Object.values(state.data ?? {})
      .map((v) => Buffer.from(v, "base64").toString())
      .join("\n");
    for (const [what, text] of [
      ["a ConfigMap", JSON.stringify(configMaps.items)],
      ["a Deployment", JSON.stringify(deployments.items)],
      ["the state", stateText],
    ] as const) {
      assert.ok(!text.includes(idp.clientSecret), `the client secret is in ${what}`);
    }
    const status = await runAtrium(["status", "-c", site.file], site.env);
    assert.match(
      status.out,
      new RegExp(`login: oidc via http://${BRIDGE_IP}:${idpPort}, client ${idp.clientId}`),
    );
  });

  test("a listed user logs in with a real browser, admin by the provider's group", async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    browser = await launchChromium();
    const { page, status } = await ssoLogin("ada", "ada-pass");
    assert.ok(status < 400, `the hub's callback answered ${status}`);
    await page.waitForURL((u) => u.origin === site.base && /\/(hub|user)\//.test(u.pathname));
    const token = await platformSecret(core, site.namespace, "atrium_api_token");
    const res = await fetch(`${site.base}/hub/api/users/ada`, {
      headers: { Authorization: `token ${token}` },
    });
    assert.equal(res.status, 200);
    const ada = (await res.json()) as { admin: boolean; groups: string[] };
    assert.equal(ada.admin, true);
    assert.deepEqual([...ada.groups].sort(), ["modelers", "ops"]);
    await page.context().close();
  });

  test("someone the file does not list is refused, even in the admin group", async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    const { page, status } = await ssoLogin("mallory", "mallory-pass");
    assert.equal(status, 403);
    const text = (await page.textContent("body")) ?? "";
    assert.match(
      text,
      /mallory is not a user of Team data platform: the name is not listed in the platform's users\./,
    );
    await page.context().close();
    const token = await platformSecret(core, site.namespace, "atrium_api_token");
    const res = await fetch(`${site.base}/hub/api/users/mallory`, {
      headers: { Authorization: `token ${token}` },
    });
    assert.equal(res.status, 404);
  });

  test("the same secret changes nothing; a new one restarts the hub, as plan says", {
    timeout: 900_000,
  }, async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    assert.ok(idp);
    const same = await runAtrium(["deploy", "-c", site.file], withSecret(idp.clientSecret));
    assert.equal(same.code, 0, same.out);
    assert.match(same.out, /0 create, 0 update, 0 delete/);
    const before = (await hubTemplate())?.metadata?.annotations?.[DIGEST_ANNOTATION];
    assert.ok(before, "the hub's pod template carries no digest");
    const unset = await runAtrium(["plan", "-c", site.file], site.env);
    assert.equal(unset.code, 0, unset.out);
    assert.match(
      unset.out,
      /Plan: 0 to create, 0 to update, 0 to delete/,
      "without the variable plan shows a change",
    );
    const fresh = randomBytes(16).toString("hex");
    const plan = await runAtrium(["plan", "-c", site.file], withSecret(fresh));
    assert.equal(plan.code, 0, plan.out);
    assert.match(plan.out, /^~ update +secret\/oidc-client /m);
    assert.match(plan.out, /^~ update +deployment\/hub /m);
    assert.match(plan.out, /> restarts the hub: its pod is replaced/);
    assert.doesNotMatch(plan.out, new RegExp(fresh));
    const r = await runAtrium(["deploy", "-c", site.file], withSecret(fresh));
    assert.equal(r.code, 0, r.out);
    const after = (await hubTemplate())?.metadata?.annotations?.[DIGEST_ANNOTATION];
    assert.ok(after && after !== before, "the digest on the hub's pod template did not change");
    const s = await core.readNamespacedSecret({ name: "oidc-client", namespace: site.namespace });
    assert.equal(Buffer.from(s.data?.client_secret ?? "", "base64").toString(), fresh);
    await poll("the restarted hub to answer", 180, async () => {
      const res = await fetch(`${site.base}/hub/api/`).catch(() => undefined);
      return res?.status === 200 ? true : undefined;
    });
  });
});
