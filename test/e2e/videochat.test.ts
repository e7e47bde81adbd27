/**
 * Video Chat in a real browser (Debian's chromium driven by playwright-core): a user
 * in two groups opens Video Chat from the JupyterLab launcher, sees exactly their two
 * group rooms and the open rooms, and joins one; a user in another group does not
 * see those rooms; with videochat.enabled: false the panel is gone.
 *
 * No Jitsi server is reachable here, so `jitsi_domain` points at a small HTTPS server
 * of this test (a throwaway self-signed certificate) whose external_api.js defines a
 * JitsiMeetExternalAPI that embeds an iframe the way Jitsi's does: the room in the
 * path, the display name in the fragment. Screenshots go to test-artifacts/.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { selfSignedCertArgs } from "../../src/targets/self-signed-cert.js";
import { chromiumMissing, launchChromium, logInThroughForm } from "./chromium.js";
import { http, makePlatform, type Platform, REPO, suiteScope, waitFor } from "./harness.js";

const ARTIFACTS = join(REPO, "test-artifacts");
const PASSWORD = "videochat-e2e-password";

// What a Jitsi server's external_api.js provides, reduced to what the panel uses.
const FAKE_EXTERNAL_API = `
window.JitsiMeetExternalAPI = function (domain, options) {
  var name = (options.userInfo && options.userInfo.displayName) || "";
  var frame = document.createElement("iframe");
  frame.className = "fake-jitsi";
  frame.src = "https://" + domain + "/" + encodeURIComponent(options.roomName) +
    "#userInfo.displayName=" + encodeURIComponent(JSON.stringify(name));
  frame.style.width = "100%";
  frame.style.height = "100%";
  options.parentNode.appendChild(frame);
  this.addListener = function () {};
  this.dispose = function () { frame.remove(); };
};
`;

const FAKE_MEETING = `<!doctype html>
<html><head><title>Fake Jitsi</title>
<style>body{font:18px sans-serif;background:#1f2a36;color:#fff;display:flex;align-items:center;
justify-content:center;height:95vh;flex-direction:column}</style></head>
<body><h1 id="room"></h1><p id="who"></p>
<script>
  document.getElementById("room").textContent = "Meeting " + decodeURIComponent(location.pathname.slice(1));
  var m = /userInfo\\.displayName=([^&]*)/.exec(location.hash);
  document.getElementById("who").textContent = "You are " + (m ? JSON.parse(decodeURIComponent(m[1])) : "?");
</script></body></html>`;

interface FakeJitsi {
  domain: string;
  requests: string[];
  close(): Promise<void>;
}

async function startFakeJitsi(): Promise<FakeJitsi> {
  const dir = mkdtempSync(join(tmpdir(), "atrium-fake-jitsi-"));
  try {
    execFileSync("openssl", selfSignedCertArgs("127.0.0.1", join(dir, "key.pem"), join(dir, "cert.pem")), {
      stdio: "ignore",
    });
    const requests: string[] = [];
    const server: Server = createServer(
      { key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) },
      (req, res) => {
        const path = new URL(req.url ?? "/", "https://x").pathname;
        requests.push(path);
        if (path === "/external_api.js") {
          res.writeHead(200, { "Content-Type": "application/javascript" }).end(FAKE_EXTERNAL_API);
        } else {
          res.writeHead(200, { "Content-Type": "text/html" }).end(FAKE_MEETING);
        }
      },
    );
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("the fake Jitsi server has no port");
    return {
      domain: `127.0.0.1:${address.port}`,
      requests,
      close: () => new Promise((ok) => server.close(() => ok())),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, name) });
}

describe("Video Chat in JupyterLab", {
  skip: chromiumMissing,
}, () => {
  const scope = suiteScope(after);
  let p: Platform;
  let jitsi: FakeJitsi;
  let browser: Browser | undefined;
  let ana: string;
  let ben: string;

  before(async () => {
    jitsi = await startFakeJitsi();
    scope.after(() => jitsi.close());
    p = await makePlatform(scope, {
      config: (n) => ({
        groups: [{ name: n.name("team") }, { name: n.name("lab") }, { name: n.name("other") }],
        users: [
          { name: n.name("admin"), admin: true },
          { name: n.name("ana"), groups: [n.name("team"), n.name("lab")] },
          { name: n.name("ben"), groups: [n.name("other")] },
        ],
        // only what this test needs: faster deploys, no dependence on other services
        dask: { enabled: false },
        ssh: { enabled: false },
        videochat: { enabled: true, jitsi_domain: jitsi.domain, rooms: ["standup", "retro"] },
      }),
    });
    ana = p.name("ana");
    ben = p.name("ben");
    const r = await p.deploy();
    assert.equal(r.code, 0, `deploy failed:\n${r.stdout}\n${r.stderr}`);
    await p.setPassword(ana, PASSWORD);
    await p.setPassword(ben, PASSWORD);
    browser = await launchChromium([
      // the fake Jitsi server's certificate is self-signed
      "--ignore-certificate-errors",
    ]);
  });

  after(async () => {
    await browser?.close();
  });

  const extensionDir = () =>
    join(p.dirs.prefix, "venvs", "user", "share", "jupyter", "labextensions", "@atrium", "videochat");
  const room = (name: string) => `${p.project}-${name}`;

  /** Log in through the form, start the server through the API, open JupyterLab. */
  async function openLab(user: string): Promise<Page> {
    assert.ok(browser);
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    page.setDefaultTimeout(60_000);
    await logInThroughForm(page, p.url, user, PASSWORD);
    const started = await p.hubApi(`/users/${user}/server`, { method: "POST", body: {} });
    assert.ok([201, 202, 400].includes(started.status), `spawn ${user}: ${started.status} ${started.text}`);
    await waitFor(
      `${user}'s server`,
      async () =>
        (await p.hubApi(`/users/${user}`)).json<{ servers: Record<string, { ready: boolean }> }>().servers[""]
          ?.ready
          ? true
          : undefined,
      240_000,
      1000,
    );
    await page.goto(`${p.url}/user/${user}/lab`);
    await page.locator(".jp-Launcher").first().waitFor({ state: "visible", timeout: 180_000 });
    return page;
  }

  async function roomsInPanel(page: Page, screenshot?: string): Promise<Array<[string, string]>> {
    const card = page.locator(".jp-LauncherCard", { hasText: "Video Chat" });
    await card.waitFor({ state: "visible" });
    if (screenshot) await shot(page, screenshot);
    await card.click();
    const rows = page.locator(".atrium-VideoChat-room");
    await rows.first().waitFor({ state: "visible" });
    return rows.evaluateAll((els) =>
      els.map((e) => [(e as HTMLElement).dataset.kind ?? "", (e as HTMLElement).dataset.room ?? ""]),
    );
  }

  it("installs the extension into the user env", async () => {
    const pkg = JSON.parse(readFileSync(join(extensionDir(), "package.json"), "utf8")) as { name: string };
    assert.equal(pkg.name, "@atrium/videochat");
  });

  it("shows a user in two groups their two group rooms and the open rooms, and joins one", async () => {
    const page = await openLab(ana);
    const config = await page.locator("#jupyter-config-data").textContent();
    assert.match(config ?? "", /@atrium\/videochat/);
    await page.keyboard.press("Control+Shift+C");
    const search = page.locator(".lm-CommandPalette-input");
    await search.waitFor({ state: "visible" });
    await search.fill("Video Chat");
    await page.locator(".lm-CommandPalette-item", { hasText: "Video Chat" }).first().waitFor();
    await page.keyboard.press("Escape");

    assert.deepEqual(await roomsInPanel(page, "videochat-launcher.png"), [
      ["group", room(p.name("lab"))],
      ["group", room(p.name("team"))],
      ["room", room("retro")],
      ["room", room("standup")],
    ]);
    await page.getByText(`you join as ${ana}`, { exact: false }).waitFor();
    await shot(page, "videochat-rooms.png");

    await page
      .locator(`.atrium-VideoChat-room[data-room="${room(p.name("lab"))}"] .atrium-VideoChat-join`)
      .click();
    const frame = page.locator(".atrium-VideoChat-frame iframe");
    await frame.waitFor({ state: "attached" });
    const src = new URL((await frame.getAttribute("src")) ?? "");
    assert.equal(src.protocol, "https:");
    assert.equal(src.host, jitsi.domain);
    assert.equal(decodeURIComponent(src.pathname), `/${room(p.name("lab"))}`);
    assert.equal(src.hash, `#userInfo.displayName=${encodeURIComponent(JSON.stringify(ana))}`);
    const meeting = page.frameLocator(".atrium-VideoChat-frame iframe");
    await meeting
      .locator("#room")
      .filter({ hasText: `Meeting ${room(p.name("lab"))}` })
      .waitFor();
    await meeting
      .locator("#who")
      .filter({ hasText: `You are ${ana}` })
      .waitFor();
    assert.ok(
      jitsi.requests.includes("/external_api.js"),
      `the API script was not fetched: ${jitsi.requests}`,
    );
    assert.equal(
      await page
        .locator(".lm-DockPanel-tabBar .lm-TabBar-tab", { hasText: `Video: ${p.name("lab")}` })
        .count(),
      1,
    );
    await shot(page, "videochat-meeting.png");
    await page.context().close();
  });

  it("does not show a user the rooms of groups they are not in", async () => {
    const page = await openLab(ben);
    assert.deepEqual(await roomsInPanel(page), [
      ["group", room(p.name("other"))],
      ["room", room("retro")],
      ["room", room("standup")],
    ]);
    await page.context().close();

    // the hub's answer itself, for the login cookie of each user
    const asBen = await p.login(ben, PASSWORD);
    const answer = await p.get("/hub/atrium/videochat", { cookie: asBen.cookie });
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(answer.json(), {
      domain: jitsi.domain,
      displayName: ben,
      rooms: [
        { name: p.name("other"), kind: "group", roomName: room(p.name("other")) },
        { name: "retro", kind: "room", roomName: room("retro") },
        { name: "standup", kind: "room", roomName: room("standup") },
      ],
    });
    const anonymous = await http(`${p.url}/hub/atrium/videochat`);
    assert.equal(anonymous.status, 302);
    assert.match(anonymous.headers.get("location") ?? "", /\/hub\/login/);
  });

  it("removes the panel with videochat.enabled: false", async () => {
    const videochat = p.config.videochat as Record<string, unknown>;
    p.writeConfig({ ...p.config, videochat: { ...videochat, enabled: false } });
    const r = await p.deploy();
    assert.equal(r.code, 0, `redeploy failed:\n${r.stdout}\n${r.stderr}`);
    assert.equal(existsSync(extensionDir()), false, "the extension is still in the user env");

    const asAna = await p.login(ana, PASSWORD);
    assert.equal((await p.get("/hub/atrium/videochat", { cookie: asAna.cookie })).status, 404);

    // ana's server kept running through the redeploy; a reload shows JupyterLab without the panel
    const page = await openLab(ana);
    const config = await page.locator("#jupyter-config-data").textContent();
    assert.doesNotMatch(config ?? "", /@atrium\/videochat/);
    await page.locator(".jp-LauncherCard").first().waitFor({ state: "visible" });
    assert.equal(await page.locator(".jp-LauncherCard", { hasText: "Video Chat" }).count(), 0);
    await page.keyboard.press("Control+Shift+C");
    const search = page.locator(".lm-CommandPalette-input");
    await search.waitFor({ state: "visible" });
    await search.fill("Video Chat");
    assert.equal(await page.locator(".lm-CommandPalette-item", { hasText: "Video Chat" }).count(), 0);
    await shot(page, "videochat-disabled.png");
    await page.context().close();
  });
});
