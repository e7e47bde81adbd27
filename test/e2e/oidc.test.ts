/**
 * Single sign-on for real: a platform with `auth.type: oidc` against a real OpenID
 * Connect provider on 127.0.0.1 (npm oidc-provider, see oidc-provider.ts), logged
 * into through the provider's login page in Debian's chromium (playwright-core).
 *
 * Deploy refuses while the client secret's variable is unset. Two people in
 * different provider groups log in for the first time and get Linux accounts with
 * the mapped groups and ~/shared links, hub groups and profiles; after the provider
 * moves one of them to another group (and into the admin group), the next login
 * moves the Linux and hub membership, the links and the admin flag, and their server
 * starts with the new groups. Someone the file does not allow gets a page saying
 * so, and no account. `destroy --purge` removes the accounts made at login.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { chromiumMissing, launchChromium } from "./chromium.js";
import {
  freePorts,
  getent,
  idOf,
  makePlatform,
  namesWithPrefix,
  type Platform,
  REPO,
  suiteScope,
  waitFor,
} from "./harness.js";
import { startProvider, type TestProvider } from "./oidc-provider.js";

const ARTIFACTS = join(REPO, "test-artifacts");
const SECRET_ENV = "ATRIUM_E2E_OIDC_SECRET";

describe("single sign-on through an OpenID Connect provider", {
  skip: chromiumMissing,
}, () => {
  const scope = suiteScope(after);
  let p: Platform;
  let idp: TestProvider;
  let browser: Browser | undefined;
  let ana: string;
  let ben: string;
  let data: string;
  let ml: string;

  before(async () => {
    const [idpPort] = (await freePorts(1)) as [number];
    p = await makePlatform(scope, {
      config: (n) => ({
        auth: {
          type: "oidc",
          issuer: `http://127.0.0.1:${idpPort}`,
          client_id: "atrium-e2e",
          client_secret_env: SECRET_ENV,
          scopes: ["openid", "profile", "groups"],
          allowed_groups: ["staff"],
          admin_groups: ["platform-admins"],
          group_map: { "data-science": n.name("data") },
        },
        groups: [{ name: n.name("data") }, { name: n.name("ml") }],
        users: [{ name: n.name("lead"), admin: true, groups: [n.name("ml")] }],
        profiles: [
          { name: "small", display_name: "Small", default: true },
          { name: "gpu", display_name: "GPU box", groups: [n.name("ml")] },
        ],
        dask: { enabled: false },
        ssh: { enabled: false },
      }),
    });
    ana = p.name("ana");
    ben = p.name("ben");
    data = p.name("data");
    ml = p.name("ml");
    idp = await startProvider({
      port: idpPort,
      redirectUri: `${p.url}/hub/oauth_callback`,
      accounts: [
        // a claim in mixed case: the hub's name for it is lower case
        { login: "ana", password: "ana-pass", username: p.name("Ana"), groups: ["staff", "data-science"] },
        { login: "ben", password: "ben-pass", username: ben, groups: ["staff", ml] },
        { login: "mallory", password: "mallory-pass", username: p.name("mallory"), groups: ["visitors"] },
      ],
    });
    scope.after(() => idp.close());
    scope.after(() => {
      delete process.env[SECRET_ENV];
    });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
  });

  /** Through the hub's login page and the provider's; returns the page where the hub left us. */
  async function ssoLogin(login: string, password: string): Promise<Page> {
    assert.ok(browser);
    const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
    const page = await context.newPage();
    page.setDefaultTimeout(60_000);
    await page.goto(`${p.url}/hub/login`);
    await page.getByRole("button", { name: "Sign in with 127.0.0.1" }).click();
    await page.waitForURL((u) => u.port === new URL(idp.issuer).port);
    assert.match(await page.title(), /Test identity provider: sign in/);
    await page.fill("#login", login);
    await page.fill("#password", password);
    await Promise.all([page.waitForURL((u) => u.origin === p.url), page.click("#submit")]);
    await page.waitForLoadState();
    return page;
  }

  async function hubUser(name: string): Promise<{ admin: boolean; groups: string[] }> {
    const r = await p.hubApi(`/users/${name}`);
    assert.equal(r.status, 200, r.text);
    return r.json<{ admin: boolean; groups: string[] }>();
  }

  async function profilesOffered(page: Page, name: string): Promise<string[]> {
    await page.goto(`${p.url}/hub/spawn/${name}`);
    return page
      .locator('input[name="profile"]')
      .evaluateAll((els) => els.map((e) => (e as HTMLInputElement).value));
  }

  function sharedLinks(name: string): Record<string, string> {
    const dir = join(p.dirs.home, name, "shared");
    if (!existsSync(dir)) return {};
    return Object.fromEntries(readdirSync(dir).map((f) => [f, readlinkSync(join(dir, f))]));
  }

  function supplementaryGroups(name: string): string[] {
    return idOf(name, "-Gn")
      .split(/\s+/)
      .filter((g) => g !== name)
      .sort();
  }

  it("1. refuses to deploy without the client secret, naming the variable, before changing anything", async () => {
    delete process.env[SECRET_ENV];
    const r = await p.deploy();
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    assert.match(
      `${r.stdout}${r.stderr}`,
      new RegExp(`\\$${SECRET_ENV} \\(auth.client_secret_env\\) is not set`),
    );
    assert.equal(existsSync(p.dirs.state), false, "deploy changed something before refusing");
    assert.equal(existsSync(p.dirs.data), false, "deploy changed something before refusing");
  });

  it("2. deploys with the secret kept root-only, and status names the provider", async () => {
    process.env[SECRET_ENV] = idp.clientSecret;
    const r = await p.deploy();
    assert.equal(r.code, 0, `deploy failed:\n${r.stdout}\n${r.stderr}`);
    assert.doesNotMatch(`${r.stdout}${r.stderr}`, new RegExp(idp.clientSecret));
    const file = join(p.dirs.data, "secrets", "oidc_client_secret");
    assert.equal(readFileSync(file, "utf8").trim(), idp.clientSecret);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    // not in the rendered files, the logs or the state
    const grep = spawnSync(
      "grep",
      ["-rl", idp.clientSecret, join(p.dirs.prefix, "etc"), p.dirs.log, p.dirs.state],
      {
        encoding: "utf8",
      },
    );
    assert.equal(grep.status, 1, `the client secret is in ${grep.stdout}${grep.stderr}`);
    const status = await p.atrium(["status", "-c", p.configFile]);
    assert.match(
      status.stdout,
      new RegExp(
        `auth +oidc via ${idp.issuer}, client atrium-e2e; may log in: users in the file and groups staff`,
      ),
    );
  });

  it("3. first logins make Linux accounts with the mapped groups, links, hub groups and profiles", async () => {
    assert.equal(getent("passwd", ana), undefined);
    const page = await ssoLogin("ana", "ana-pass");
    assert.ok(page.url().startsWith(`${p.url}/hub/`), page.url());

    const entry = getent("passwd", ana)?.split(":");
    assert.equal(entry?.[5], join(p.dirs.home, ana));
    assert.equal(statSync(join(p.dirs.home, ana)).mode & 0o777, 0o700);
    assert.match(execFileSync("passwd", ["-S", ana], { encoding: "utf8" }), new RegExp(`^${ana} L `));
    assert.deepEqual(supplementaryGroups(ana), [data]);
    assert.deepEqual(sharedLinks(ana), { [data]: join(p.dirs.shared, data) });
    assert.equal(lstatSync(join(p.dirs.home, ana, "shared", data)).uid, Number(idOf(ana, "-u")));
    const user = await hubUser(ana);
    assert.deepEqual([user.groups, user.admin], [[data], false]);
    assert.deepEqual(await profilesOffered(page, ana), ["small"]);

    // the Video Chat room list answers for OIDC users too; the password page does not exist
    const answer = await page.context().request.get(`${p.url}/hub/atrium/videochat`);
    assert.equal(answer.status(), 200, await answer.text());
    const rooms = (await answer.json()) as { rooms: Array<{ name: string }> };
    assert.deepEqual(
      rooms.rooms.map((r) => r.name),
      [data],
    );
    const password = await page.goto(`${p.url}/hub/atrium/password`);
    assert.equal(password?.status(), 404);
    await page.context().close();

    const benPage = await ssoLogin("ben", "ben-pass");
    assert.deepEqual(supplementaryGroups(ben), [ml]);
    assert.deepEqual(sharedLinks(ben), { [ml]: join(p.dirs.shared, ml) });
    assert.deepEqual((await hubUser(ben)).groups, [ml]);
    assert.deepEqual(await profilesOffered(benPage, ben), ["small", "gpu"]);
    await benPage.context().close();
  });

  it("4. the next login follows the provider's groups: Linux, hub, links, profiles, admin", async () => {
    const account = idp.accounts.get("ana");
    assert.ok(account);
    account.groups = ["staff", ml, "platform-admins"];
    const page = await ssoLogin("ana", "ana-pass");
    assert.deepEqual(supplementaryGroups(ana), [ml]);
    assert.deepEqual(sharedLinks(ana), { [ml]: join(p.dirs.shared, ml) });
    const user = await hubUser(ana);
    assert.deepEqual([user.groups, user.admin], [[ml], true]);
    assert.deepEqual(await profilesOffered(page, ana), ["small", "gpu"]);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "oidc-spawn-page.png") });
    await page.context().close();

    // the server runs with the new supplementary groups
    const start = await p.hubApi(`/users/${ana}/server`, { method: "POST", body: { profile: "gpu" } });
    assert.ok([201, 202].includes(start.status), start.text);
    await waitFor(
      "ana's server to be ready",
      async () =>
        ((await hubUser(ana)) as { servers?: Record<string, { ready: boolean }> }).servers?.[""]?.ready ||
        undefined,
      240_000,
    );
    const uid = idOf(ana, "-u");
    const mlGid = getent("group", ml)?.split(":")[2];
    const dataGid = getent("group", data)?.split(":")[2];
    const serverGroups = readdirSync("/proc")
      .filter((d) => /^\d+$/.test(d))
      .flatMap((pid) => {
        try {
          const status = readFileSync(`/proc/${pid}/status`, "utf8");
          const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
          if (!new RegExp(`^Uid:\\s+${uid}\\s`, "m").test(status) || !cmd.includes("jupyterhub-singleuser"))
            return [];
          return [(/^Groups:\s*(.*)$/m.exec(status)?.[1] ?? "").trim().split(/\s+/)];
        } catch {
          return [];
        }
      });
    assert.ok(serverGroups.length > 0, "no server process of ana found");
    for (const groups of serverGroups) {
      assert.ok(mlGid && groups.includes(mlGid), `server groups ${groups} lack ${ml}`);
      assert.ok(dataGid && !groups.includes(dataGid), `server groups ${groups} still have ${data}`);
    }
    const stop = await p.hubApi(`/users/${ana}/server`, { method: "DELETE" });
    assert.ok([202, 204].includes(stop.status), stop.text);
  });

  it("5. someone the file does not allow gets a page saying why, and no account", async () => {
    const mallory = p.name("mallory");
    assert.ok(browser);
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${p.url}/hub/login`);
    await page.getByRole("button", { name: "Sign in with 127.0.0.1" }).click();
    await page.fill("#login", "mallory");
    await page.fill("#password", "mallory-pass");
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().startsWith(`${p.url}/hub/oauth_callback`)),
      page.click("#submit"),
    ]);
    assert.equal(response.status(), 403);
    await page.waitForLoadState();
    const text = (await page.textContent("body")) ?? "";
    assert.match(text, /403 : Login refused/);
    assert.match(
      text,
      new RegExp(
        `${mallory} is not a user of Atrium e2e ${p.id}: the name is not listed in the platform's users, ` +
          "and your groups there \\(visitors\\) are not allowed to log in\\. Ask an admin to add you\\.",
      ),
    );
    await page.screenshot({ path: join(ARTIFACTS, "oidc-refused.png") });
    await context.close();
    assert.equal(getent("passwd", mallory), undefined);
    assert.equal((await p.hubApi(`/users/${mallory}`)).status, 404);
  });

  it("6. destroy --purge removes the accounts made at login", async () => {
    const r = await p.atrium(["destroy", "--purge", "--yes", "-c", p.configFile]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.deepEqual(namesWithPrefix("/etc/passwd", `${p.id}_`), []);
    assert.deepEqual(namesWithPrefix("/etc/group", `${p.id}_`), []);
  });
});
