/**
 * Restarts: with a user's server and kernel running and a browser-like client
 * logged in through the form, the hub, the proxy and the supervisor are each killed
 * with SIGKILL. Every time the server keeps its pid and its kernel's state, the
 * route to it comes back through the proxy within a bounded time, and the browser's
 * cookies still work (the hub's home page and the server's JupyterLab, without a
 * new login). A killed supervisor leaves its processes running; the next
 * `atrium deploy` starts a new one that adopts them (same pids) and restarts them
 * when they die.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Browser, pidFile, pidsWhere, readPid, serverPid, spawnServer } from "./checks.js";
import { makePlatform, type Platform, pidAlive, REPO, suiteScope, waitFor } from "./harness.js";
import { KernelClient } from "./kernel.js";

/** How long a route may take to come back after a kill. */
const ROUTE_BACK_MS = 60_000;

interface Status {
  pid: number;
  processes: Array<{ name: string; pid: number | null; state: string; restarts: number }>;
}

describe("killing the hub, the proxy or the supervisor stops no user's server", () => {
  const scope = suiteScope(after);
  let p: Platform;
  let amy = "";
  let token = "";
  let server = 0;
  let kernelId = "";
  let browser: Browser;
  const timings: string[] = [];

  const status = (): Status =>
    JSON.parse(readFileSync(join(p.dirs.state, "run", "status.json"), "utf8")) as Status;

  /** Kill `name`'s process (from its pid file) and wait for the supervisor to start a new one. */
  async function killAndWaitForNew(name: string): Promise<{ old: number; fresh: number; killedAt: number }> {
    const old = readPid(pidFile(p, name));
    assert.ok(old && pidAlive(old), `${name} is not running`);
    const killedAt = Date.now();
    process.kill(old, "SIGKILL");
    const fresh = await waitFor(
      `a new ${name} process`,
      () => {
        const pid = readPid(pidFile(p, name));
        return pid !== undefined && pid !== old && pidAlive(pid) ? pid : undefined;
      },
      60_000,
      100,
    );
    return { old, fresh, killedAt };
  }

  /** What must hold after every kill; `what` names the kill in messages and timings. */
  async function assertUserUnharmed(what: string, killedAt: number): Promise<void> {
    await waitFor(
      `${amy}'s server to answer through the proxy after ${what}`,
      async () => ((await p.get(`/user/${amy}/api`, { token })).status === 200 ? true : undefined),
      ROUTE_BACK_MS,
      200,
    );
    timings.push(`${what}: route back after ${((Date.now() - killedAt) / 1000).toFixed(1)} s`);
    assert.ok(pidAlive(server), `${amy}'s server died after ${what}`);
    assert.equal(await serverPid(p, amy), server, `the hub lost or replaced ${amy}'s server after ${what}`);

    // The browser's hub cookie still works: no redirect to the login page.
    const home = await browser.request("/hub/home");
    assert.equal(
      home.status,
      200,
      `after ${what}, /hub/home answered ${home.status} -> ${home.headers.get("location")}`,
    );
    assert.ok(home.text.includes(amy), "the home page does not name the user");
    // And so does the server's own cookie: JupyterLab opens without a login.
    const lab = await browser.navigate(`/user/${amy}/lab`);
    assert.equal(
      lab.status,
      200,
      `after ${what}, JupyterLab answered ${lab.status} via ${lab.hops.join(" -> ")}`,
    );
    assert.ok(
      !lab.hops.some((h) => h.includes("/hub/login")),
      `after ${what}, the browser was sent to log in again: ${lab.hops.join(" -> ")}`,
    );

    // The kernel is the same one: what it computed before is still there.
    const kernel = await KernelClient.connect(`${p.url}/user/${amy}`, token, kernelId);
    try {
      const r = await kernel.execute("survivor + 1");
      assert.equal(r.status, "ok", `the kernel lost its state after ${what}: ${JSON.stringify(r.error)}`);
      assert.equal(r.result, "42");
    } finally {
      kernel.close();
    }
  }

  before(async () => {
    p = await makePlatform(scope, {
      config: (n) => ({
        groups: [{ name: n.name("team") }],
        users: [
          { name: n.name("admin"), admin: true },
          { name: n.name("amy"), groups: [n.name("team")] },
        ],
      }),
    });
    amy = p.name("amy");
    const r = await p.deploy();
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const password = `pw-${randomBytes(9).toString("hex")}`;
    await p.setPassword(amy, password);
    browser = new Browser(p.url);
    assert.ok(await browser.login(amy, password), "the login form refused the password");
    token = await p.userToken(amy);
    await spawnServer(p, amy, token);
    server = await serverPid(p, amy);
    const opened = await browser.navigate(`/user/${amy}/lab`);
    assert.equal(opened.status, 200, `JupyterLab: ${opened.status} via ${opened.hops.join(" -> ")}`);
    const kernel = await KernelClient.start(`${p.url}/user/${amy}`, token);
    kernelId = kernel.id;
    assert.equal((await kernel.execute("survivor = 41")).status, "ok");
    kernel.close();
  });

  after(() => {
    if (timings.length > 0) process.stdout.write(`# ${timings.join("\n# ")}\n`);
  });

  it("kill -9 of the hub: the supervisor restarts it, the server and the cookie live on", async () => {
    const { fresh, killedAt } = await killAndWaitForNew("hub");
    await waitFor(
      "the new hub to answer",
      async () => ((await p.hubApi("/")).status === 200 ? true : undefined),
      90_000,
    );
    await assertUserUnharmed("kill -9 of the hub", killedAt);
    assert.equal(status().processes.find((x) => x.name === "hub")?.pid, fresh);
    // The hub's own helper (the idle culler) must not pile up with every restart.
    await waitFor(
      "one idle culler",
      () => {
        const cullers = pidsWhere((c) => c.includes("jupyterhub_idle_culler") && c.includes(p.dirs.prefix));
        return cullers.length === 1 ? true : undefined;
      },
      30_000,
    ).catch(() => {
      const cullers = pidsWhere((c) => c.includes("jupyterhub_idle_culler") && c.includes(p.dirs.prefix));
      assert.fail(`${cullers.length} idle cullers run after the hub was killed: ${cullers.join(", ")}`);
    });
  });

  it("kill -9 of the proxy: the supervisor restarts it and the hub's routes come back", async () => {
    const before = await p.get(`/user/${amy}/api`, { token });
    assert.equal(before.status, 200);
    const { killedAt } = await killAndWaitForNew("proxy");
    await assertUserUnharmed("kill -9 of the proxy", killedAt);
  });

  it("a user racing for the hub's and the proxy's ports while they restart never gets one", async () => {
    const ports = [p.ports.hub, p.ports.proxy_api, p.ports.envs].map(String);
    // The attacker's helper tries again and again to listen on those ports.
    const claimerScript = join(p.root, "port-claimer.py");
    copyFileSync(join(REPO, "test", "e2e", "port-claimer.py"), claimerScript);
    chmodSync(claimerScript, 0o644);
    const claimer = spawn(
      "setpriv",
      ["--reuid", amy, "--regid", amy, "--init-groups", "--", "/usr/bin/python3", claimerScript, ...ports],
      { stdio: ["pipe", "pipe", "inherit"], env: { PATH: "/usr/bin:/bin", ATRIUM_CLAIM_SECONDS: "150" } },
    );
    let out = "";
    claimer.stdout.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
    const ended = new Promise<void>((ok) => claimer.once("close", () => ok()));
    // A claimed port can keep a service from coming back: what the attacker got is told first.
    let failure: unknown;
    try {
      await waitFor("the claimer to start", () => (out.includes("ready") ? true : undefined), 30_000, 50);
      for (const name of ["hub", "proxy"]) {
        const { killedAt } = await killAndWaitForNew(name);
        await waitFor(
          "the hub to answer",
          async () => ((await p.hubApi("/")).status === 200 ? true : undefined),
          90_000,
        );
        await assertUserUnharmed(`kill -9 of the ${name} with ${amy} racing for its port`, killedAt);
      }
    } catch (err) {
      failure = err;
    } finally {
      claimer.stdin.end();
      await Promise.race([ended, new Promise((ok) => setTimeout(ok, 10_000))]);
      if (claimer.exitCode === null) claimer.kill("SIGKILL");
    }
    const got = out.split("\n").filter((l) => l.startsWith("got "));
    process.stdout.write(
      `# port claimer: ${got.length} ports taken; ${out.split("\n").find((l) => l.startsWith("refused")) ?? ""}\n`,
    );
    const taken = [...new Set(got.map((l) => l.slice(4)))].join(", ");
    assert.equal(got.length, 0, `${amy} listened on a root service's port ${got.length} times (${taken})`);
    if (failure) throw failure;
  });

  it("kill -9 of the supervisor stops nothing; the next deploy adopts every process", async () => {
    const before = status();
    const supervisor = readPid(pidFile(p, "supervisor"));
    assert.ok(supervisor && pidAlive(supervisor));
    const pids = new Map(before.processes.map((x) => [x.name, x.pid]));
    for (const [name, pid] of pids) assert.ok(pid && pidAlive(pid), `${name} is not running`);

    const killedAt = Date.now();
    process.kill(supervisor, "SIGKILL");
    await waitFor("the supervisor to die", () => (pidAlive(supervisor) ? undefined : true), 10_000, 50);
    for (const [name, pid] of pids) assert.ok(pidAlive(pid as number), `${name} died with the supervisor`);
    await assertUserUnharmed("kill -9 of the supervisor", killedAt);

    const r = await p.deploy();
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^~ services /m, "the deploy did not see the supervisor was gone");
    const fresh = readPid(pidFile(p, "supervisor"));
    assert.ok(fresh && fresh !== supervisor && pidAlive(fresh), "no new supervisor");
    const after = status();
    assert.equal(after.pid, fresh);
    for (const [name, pid] of pids) {
      assert.equal(after.processes.find((x) => x.name === name)?.pid, pid, `${name} was not adopted`);
      assert.ok(pidAlive(pid as number));
    }
    const supervisorLog = readFileSync(join(p.dirs.log, "supervisor.log"), "utf8");
    for (const name of pids.keys())
      assert.match(supervisorLog, new RegExp(`${name}: adopted running pid \\d+`));
    await assertUserUnharmed("the deploy after the supervisor's death", Date.now());

    // The new supervisor watches what it adopted: a hub that dies now is restarted too.
    const again = await killAndWaitForNew("hub");
    assert.equal(again.old, pids.get("hub"));
    await waitFor(
      "the hub to answer",
      async () => ((await p.hubApi("/")).status === 200 ? true : undefined),
      90_000,
    );
    await assertUserUnharmed("kill -9 of an adopted hub", again.killedAt);
  });
});
