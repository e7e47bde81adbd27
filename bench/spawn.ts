/**
 * Spawn latency, side by side in one run: Atrium's hub (profiles, cgroup limits,
 * shared folders) against a plain JupyterHub with LocalProcessSpawner, both from the
 * same hub env, starting the same single-user server for the same Linux user on this
 * machine. Spawns alternate between the two so load affects both alike.
 * Usage: node dist/bench/spawn.js [SPAWNS_EACH]   (default 10)
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { proxyCommand } from "../src/targets/local/programs.js";
import { freePorts, http, type Platform } from "../test/e2e/harness.js";
import { median, percentile, secs, withPlatform } from "./support.js";

const spawns = Number(process.argv[2] ?? 10);

interface Hub {
  name: string;
  api: string;
  token: string;
}

async function api(hub: Hub, method: string, path: string, body?: unknown) {
  return http(`${hub.api}${path}`, {
    method,
    headers: { Authorization: `token ${hub.token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** Seconds from the spawn request to the server being ready, then stop it and wait. */
async function timeSpawn(hub: Hub, user: string): Promise<number> {
  const started = Date.now();
  const r = await api(hub, "POST", `/users/${user}/server`, {});
  if (![201, 202].includes(r.status)) throw new Error(`${hub.name}: spawn answered ${r.status} ${r.text}`);
  for (;;) {
    const m = (await api(hub, "GET", `/users/${user}`)).json<{
      servers?: Record<string, { ready: boolean }>;
    }>();
    if (m.servers?.[""]?.ready) break;
    if (Date.now() - started > 300_000) throw new Error(`${hub.name}: server not ready after 300 s`);
    await new Promise((res) => setTimeout(res, 50));
  }
  const elapsed = Date.now() - started;
  await api(hub, "DELETE", `/users/${user}/server`);
  for (;;) {
    const m = (await api(hub, "GET", `/users/${user}`)).json<{ servers?: Record<string, unknown> }>();
    if (!m.servers?.[""]) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  return elapsed;
}

/** A plain JupyterHub beside the platform: same hub env and user env, default spawner. */
async function startPlainHub(p: Platform, user: string): Promise<{ hub: Hub; child: ChildProcess }> {
  const dir = join(p.root, "plain-hub");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const [port, hubPort, apiPort] = await freePorts(3);
  const token = randomBytes(32).toString("hex");
  writeFileSync(join(dir, "token"), token, { mode: 0o600 });
  const [node, chp] = proxyCommand();
  writeFileSync(
    join(dir, "jupyterhub_config.py"),
    `c = get_config()  # noqa
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = ${port}
c.JupyterHub.hub_port = ${hubPort}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:${apiPort}"
c.ConfigurableHTTPProxy.command = ${JSON.stringify([node, chp])}
c.JupyterHub.db_url = "sqlite:///${dir}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "${dir}/cookie_secret"
c.Authenticator.allowed_users = {"${user}"}
c.Spawner.cmd = ["${join(p.dirs.prefix, "venvs", "user", "bin", "jupyterhub-singleuser")}"]
c.Spawner.default_url = "/lab"
c.JupyterHub.services = [{"name": "bench", "api_token": open("${dir}/token").read().strip()}]
c.JupyterHub.load_roles = [{"name": "bench", "scopes": ["admin:users", "admin:servers"], "services": ["bench"]}]
`,
  );
  const log = openSync(join(dir, "hub.log"), "a");
  const child = spawn(
    join(p.dirs.prefix, "venvs", "hub", "bin", "jupyterhub"),
    ["-f", "jupyterhub_config.py"],
    {
      cwd: dir,
      stdio: ["ignore", log, log],
    },
  );
  const hub = { name: "plain JupyterHub", api: `http://127.0.0.1:${port}/hub/api`, token };
  for (let i = 0; i < 600; i++) {
    if ((await api(hub, "GET", "/").catch(() => ({ status: 0 }))).status === 200) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  await api(hub, "POST", `/users/${user}`);
  return { hub, child };
}

await withPlatform(
  (n) => ({
    users: [{ name: n.name("bench"), admin: true }],
    profiles: [{ name: "standard", display_name: "Standard", cpu_limit: 1, mem_limit: "2G", default: true }],
  }),
  async (p) => {
    const user = p.name("bench");
    const deployed = await p.deploy();
    if (deployed.code !== 0) throw new Error(`deploy failed: ${deployed.stderr}`);
    const atrium: Hub = { name: "Atrium", api: `${p.url}/hub/api`, token: p.adminToken() };
    const plain = await startPlainHub(p, user);
    try {
      const times: Record<string, number[]> = { Atrium: [], "plain JupyterHub": [] };
      for (let i = 0; i < spawns; i++) {
        for (const hub of i % 2 === 0 ? [atrium, plain.hub] : [plain.hub, atrium]) {
          const t = await timeSpawn(hub, user);
          times[hub.name]?.push(t);
          process.stdout.write(`spawn ${i + 1} ${hub.name}: ${secs(t)}\n`);
        }
      }
      const a = times.Atrium ?? [];
      const b = times["plain JupyterHub"] ?? [];
      process.stdout.write(
        `\nSpawn latency, ${spawns} spawns each, alternating (request to server ready):\n` +
          `  ${"".padEnd(18)} median     p95\n` +
          `  ${"Atrium".padEnd(18)} ${secs(median(a)).padEnd(10)} ${secs(percentile(a, 95))}\n` +
          `  ${"plain JupyterHub".padEnd(18)} ${secs(median(b)).padEnd(10)} ${secs(percentile(b, 95))}\n` +
          `  ratio Atrium / plain: median ${(median(a) / median(b)).toFixed(2)}, p95 ${(percentile(a, 95) / percentile(b, 95)).toFixed(2)} (aim <= 1.2)\n`,
      );
    } finally {
      plain.child.kill("SIGTERM");
      await new Promise((res) => setTimeout(res, 2000));
    }
  },
);
