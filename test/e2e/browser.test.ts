/**
 * A data scientist's first visit, in a real browser (Debian's chromium driven by
 * playwright-core): log in through the form, take the default profile on the
 * spawn page, land in JupyterLab. Leaves a screenshot in test-artifacts/.
 */
import assert from "node:assert/strict";
import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { chromiumMissing, launchChromium } from "./chromium.js";
import { makePlatform, type Platform, REPO, suiteScope } from "./harness.js";

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
});
