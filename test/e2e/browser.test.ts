/**
 * A data scientist's first visit, in a real browser (Debian's chromium driven by
 * playwright-core): log in through the form, take the default profile on the
 * spawn page, land in JupyterLab. Leaves a screenshot in test-artifacts/.
 * The admin's page offers no way to add, rename or delete users (they come from
 * atrium.yaml), and the hub refuses those calls with a message saying so.
 */
import assert from "node:assert/strict";
import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { chromiumMissing, launchChromium, logInThroughForm } from "./chromium.js";
import { getent, makePlatform, type Platform, REPO, suiteScope } from "./harness.js";

const ARTIFACTS = join(REPO, "test-artifacts");

describe("JupyterLab in a browser", {
  skip: chromiumMissing,
}, () => {
  const scope = suiteScope(after);
  let p: Platform;
  let browser: Browser | undefined;

  before(async () => {
    p = await makePlatform(scope, {
      config: (n) => ({
        groups: [{ name: n.name("team") }],
        users: [
          { name: n.name("admin"), admin: true, groups: [n.name("team")] },
          { name: n.name("ana"), groups: [n.name("team")] },
        ],
        profiles: [
          { name: "medium", display_name: "Medium", description: "2 GiB", mem_limit: "2Gi" },
          { name: "small", display_name: "Small", description: "1 GiB", mem_limit: "1Gi", default: true },
        ],
      }),
    });
    const r = await p.deploy();
    assert.equal(r.code, 0, `deploy failed:\n${r.stdout}\n${r.stderr}`);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
  });

  it("9. logs in, starts the default profile from the spawn page and loads JupyterLab", async () => {
    assert.ok(browser);
    const ana = p.name("ana");
    const password = "browser-e2e-password";
    await p.setPassword(ana, password);

    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    page.setDefaultTimeout(60_000);

    await page.goto(`${p.url}/hub/login`);
    await page.fill("#username_input", ana);
    await page.fill("#password_input", "not-the-password");
    await page.click("#login_submit");
    await page.waitForLoadState();
    assert.match(page.url(), /\/hub\/login/, "a wrong password got past the login page");

    await page.fill("#username_input", ana);
    await page.fill("#password_input", password);
    await Promise.all([
      page.waitForURL((u) => !u.pathname.endsWith("/hub/login")),
      page.click("#login_submit"),
    ]);

    await page.goto(`${p.url}/hub/spawn/${ana}`);
    const radios = page.locator('input[name="profile"]');
    assert.deepEqual(await radios.evaluateAll((els) => els.map((e) => (e as HTMLInputElement).value)), [
      "medium",
      "small",
    ]);
    // The default profile is preselected; pick it as a person would, then start.
    const small = page.locator('input[name="profile"][value="small"]');
    assert.equal(await small.isChecked(), true, "the default profile is not preselected");
    await small.check();
    await page.locator('form input[type="submit"], form button[type="submit"]').first().click();

    await page.waitForURL(new RegExp(`/user/${ana}/lab`), { timeout: 240_000 });
    await page.locator(".jp-LabShell").waitFor({ state: "visible", timeout: 180_000 });
    await page.locator(".jp-Launcher").first().waitFor({ state: "visible", timeout: 120_000 });
    assert.ok(await page.locator(".jp-LabShell").isVisible());

    const server = (await p.hubApi(`/users/${ana}`)).json<{
      servers: Record<string, { ready: boolean; user_options?: { profile?: string } }>;
    }>().servers[""];
    assert.equal(server?.ready, true);
    assert.equal(server?.user_options?.profile, "small");

    mkdirSync(ARTIFACTS, { recursive: true });
    const shot = join(ARTIFACTS, "jupyterlab.png");
    await page.screenshot({ path: shot });
    assert.ok(statSync(shot).size > 10_000, "the screenshot is suspiciously small");
    await context.close();
  });

  it("9b. the admin page offers no add, rename or delete of users, and the hub refuses them", async () => {
    assert.ok(browser);
    const [admin, ana, newcomer] = [p.name("admin"), p.name("ana"), p.name("newcomer")];
    const fix = "users come from atrium.yaml. Edit its `users` list and run `atrium deploy`.";

    // The REST calls the admin page would make, with the admin's own token.
    const token = await p.userToken(admin);
    const tries: Array<[string, string, unknown]> = [
      ["POST", `/users/${newcomer}`, undefined],
      ["POST", "/users", { usernames: [newcomer] }],
      ["PATCH", `/users/${ana}`, { name: newcomer, admin: false }],
      ["DELETE", `/users/${ana}`, undefined],
    ];
    for (const [method, path, body] of tries) {
      const r = await p.hubApi(path, { method, token, body });
      assert.equal(r.status, 403, `${method} ${path} answered ${r.status}: ${r.text}`);
      assert.ok(r.json<{ message: string }>().message.endsWith(fix), `${method} ${path}: ${r.text}`);
    }
    assert.equal((await p.hubApi(`/users/${newcomer}`)).status, 404, "the hub made the user anyway");
    assert.equal(getent("passwd", newcomer), undefined, "a Linux account was made");
    assert.equal((await p.hubApi(`/users/${ana}`)).status, 200, "ana is gone");

    const password = "browser-e2e-admin-password";
    await p.setPassword(admin, password);
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(60_000);
      await logInThroughForm(page, p.url, admin, password);
      await page.goto(`${p.url}/hub/admin`);
      await page.getByText(ana, { exact: true }).first().waitFor({ state: "visible" });
      assert.ok(
        await page.locator(".atrium-users-note").isVisible(),
        "the page does not say where users come from",
      );
      assert.ok(await page.getByText("Manage Groups").isVisible(), "the admin page did not render");
      assert.equal(await page.getByRole("button", { name: "Add Users" }).isVisible(), false);

      const row = page.locator("tr", { has: page.getByText(ana, { exact: true }) });
      await row.getByRole("button", { name: "Edit User" }).click();
      await page.getByText(`Editing user ${ana}`).waitFor({ state: "visible" });
      assert.ok(
        await page.getByRole("button", { name: "Apply" }).isVisible(),
        "the edit page did not render",
      );
      assert.equal(await page.getByRole("button", { name: "Delete user" }).isVisible(), false);
      assert.equal(await page.getByPlaceholder("updated username").isVisible(), false);
    } finally {
      await context.close();
    }
  });
});
