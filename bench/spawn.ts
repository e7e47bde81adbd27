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
import { freePorts, type Platform } from "../test/e2e/harness.js";
import { alternateSpawns, type Hub, hubApi, spawnSummary } from "./hub-spawn.js";
import { secs, withPlatform } from "./support.js";

const spawns = Number(process.argv[2] ?? 10);

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
    if ((await hubApi(hub, "GET", "/").catch(() => ({ status: 0 }))).status === 200) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  await hubApi(hub, "POST", `/users/${user}`);
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
      const times = await alternateSpawns([atrium, plain.hub], user, spawns);
      const s = spawnSummary(times.Atrium ?? [], times["plain JupyterHub"] ?? []);
      process.stdout.write(
        `\nSpawn latency, ${spawns} spawns each, alternating (request to server ready):\n` +
          `  ${"".padEnd(18)} median     p95\n` +
          `  ${"Atrium".padEnd(18)} ${secs(s.a.median).padEnd(10)} ${secs(s.a.p95)}\n` +
          `  ${"plain JupyterHub".padEnd(18)} ${secs(s.b.median).padEnd(10)} ${secs(s.b.p95)}\n` +
          `  ratio Atrium / plain: median ${s.medianRatio}, p95 ${s.p95Ratio} (aim <= 1.2)\n`,
      );
    } finally {
      plain.child.kill("SIGTERM");
      await new Promise((res) => setTimeout(res, 2000));
    }
  },
);
