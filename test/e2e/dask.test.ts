/**
 * Dask clusters end to end: a real dask-gateway-server with Atrium's LocalBackend,
 * used from real kernels of two users. Checks ownership (clusters, schedulers and
 * dashboards), per-user limits, worker cgroups, idle timeout and a gateway restart.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { rawGet } from "../raw-get.js";
import { makePlatform, type Platform, pidAlive, spawnServer, suiteScope, waitFor } from "./harness.js";
import { KernelClient } from "./kernel.js";

const GB = 1e9;

function cgroupsWritable(): boolean {
  try {
    execFileSync("test", ["-w", "/sys/fs/cgroup/memory"]);
    return !existsSync("/sys/fs/cgroup/cgroup.controllers");
  } catch {
    return false;
  }
}

describe("Dask clusters through dask-gateway", () => {
  let p: Platform;
  let alice = "";
  let bob = "";
  const tokens: Record<string, string> = {};
  const kernels: Record<string, KernelClient> = {};
  let clusterName = "";
  const scope = suiteScope(after);

  const spawn = (user: string) => spawnServer(p, user, tokens[user]);

  async function run(user: string, code: string, timeoutMs = 240_000): Promise<string> {
    const kernel = kernels[user];
    assert.ok(kernel, `no kernel for ${user}`);
    const r = await kernel.execute(code, timeoutMs);
    assert.equal(r.status, "ok", `${user}'s cell failed: ${r.error?.ename}: ${r.error?.evalue}\n${r.stderr}`);
    return r.stdout.trim();
  }

  before(async () => {
    p = await makePlatform(scope, {
      config: (n) => ({
        users: [{ name: n.name("alice"), admin: true }, { name: n.name("bob") }],
        dask: {
          enabled: true,
          worker_profiles: [
            { name: "tiny", cores: 1, memory: "1G", threads: 1 },
            { name: "small", cores: 1, memory: "1.5G", threads: 1 },
          ],
          limits: { max_workers: 2, max_cores: 2, max_memory: "4G" },
          idle_timeout: "40s",
        },
      }),
    });
    alice = p.name("alice");
    bob = p.name("bob");
    const deployed = await p.deploy();
    assert.equal(deployed.code, 0, `deploy failed:\n${deployed.stdout}\n${deployed.stderr}`);
    for (const u of [alice, bob]) {
      tokens[u] = await p.userToken(u);
      await spawn(u);
      kernels[u] = await KernelClient.start(`${p.url}/user/${u}`, tokens[u] ?? "");
    }
  });

  after(() => {
    for (const k of Object.values(kernels)) k.close();
  });

  it("starts a cluster with a chosen worker profile, scales to 2 workers and computes", async () => {
    const out = await run(
      alice,
      [
        "from dask_gateway import Gateway",
        "import dask.array as da",
        "g = Gateway()",
        "opts = g.cluster_options()",
        "opts.worker_profile = 'tiny'",
        "cluster = g.new_cluster(opts)",
        "cluster.scale(2)",
        "client = cluster.get_client()",
        "client.wait_for_workers(2, timeout=180)",
        "print(cluster.name)",
        "print(int(da.ones((2000, 2000), chunks=500).sum().compute()))",
        "print(len(client.scheduler_info()['workers']))",
        "print(cluster.dashboard_link)",
        // The idle timeout (40 s) counts from the last task: a task left running keeps the
        // cluster up for the tests below however slowly they run, until the restart test.
        "from distributed import Event",
        "hold = Event('atrium-e2e-keepalive')",
        "keepalive = client.submit(lambda: Event('atrium-e2e-keepalive').wait(3600), pure=False)",
      ].join("\n"),
    );
    const [name, sum, workers, dashboard] = out.split("\n");
    clusterName = name ?? "";
    assert.match(clusterName, /^[0-9a-f]{32}$/);
    assert.equal(sum, "4000000");
    assert.equal(workers, "2");
    assert.equal(dashboard, `/services/dask-gateway/clusters/${clusterName}/status`);
  });

  it("runs workers as the user, inside a cgroup with the worker profile's memory", async (t) => {
    const pids = execFileSync("pgrep", ["-u", alice, "-f", "dask worker"], { encoding: "utf8" })
      .trim()
      .split("\n")
      .map(Number);
    assert.equal(pids.length, 2);
    if (!cgroupsWritable()) {
      t.skip("/sys/fs/cgroup/memory is not writable here: checked the workers' user, not their cgroup");
      return;
    }
    for (const pid of pids) {
      const line = readFileSync(`/proc/${pid}/cgroup`, "utf8")
        .split("\n")
        .find((l) => /:memory:/.test(l));
      const path = line?.split(":")[2] ?? "";
      assert.match(path, new RegExp(`^/atrium/${p.project}/dask/${alice}/${clusterName}-worker-`));
      const limit = Number(
        readFileSync(join("/sys/fs/cgroup/memory", path, "memory.limit_in_bytes"), "utf8"),
      );
      // The kernel rounds the limit down to whole pages.
      assert.ok(Math.abs(limit - 1 * GB) < 64 * 1024, `memory limit ${limit}`);
    }
  });

  it("serves no dashboard to another user who connects straight to the owner's loopback ports", async () => {
    // Bob lists every TCP port alice's processes listen on (/proc/net/tcp is
    // world-readable) and asks each one for a dashboard page, as an attacker would.
    const out = await run(
      bob,
      [
        "import concurrent.futures, pwd, urllib.request",
        `uid = pwd.getpwnam(${JSON.stringify(alice)}).pw_uid`,
        "ports = set()",
        "for table in ('/proc/net/tcp', '/proc/net/tcp6'):",
        "    for line in open(table).read().splitlines()[1:]:",
        "        f = line.split()",
        "        if f[3] == '0A' and int(f[7]) == uid:",
        "            ports.add(int(f[1].rsplit(':', 1)[1], 16))",
        "def served(url):",
        "    try:",
        "        return urllib.request.urlopen(url, timeout=3).status == 200",
        "    except Exception:",
        "        return False",
        "urls = [f'http://127.0.0.1:{p}{path}' for p in sorted(ports) for path in ('/status', '/info/main/workers.html')]",
        "with concurrent.futures.ThreadPoolExecutor(len(urls)) as pool:",
        "    served = [u.split(':', 2)[2] for u, ok in zip(urls, pool.map(served, urls)) if ok]",
        "print(len(ports))",
        "print(' '.join(served) or 'none')",
      ].join("\n"),
    );
    const [listening, served] = out.split("\n");
    assert.ok(
      Number(listening) >= 3,
      `alice's scheduler and 2 workers listen on loopback: ${listening} ports seen`,
    );
    assert.equal(served, "none", `bob was served a dashboard at ${served}`);
  });

  it("opens the dashboard through the proxy for the owner only", async () => {
    const path = `/services/dask-gateway/clusters/${clusterName}/status`;
    const owner = await p.get(path, { token: tokens[alice] });
    assert.equal(owner.status, 200);
    assert.match(owner.text, /dask|bokeh/i);
    const other = await p.get(path, { token: tokens[bob] });
    assert.equal(other.status, 403);
    assert.doesNotMatch(other.text, /bokeh/i);
    const anonymous = await p.get(path);
    assert.equal(anonymous.status, 302);
    assert.match(
      anonymous.headers.get("location") ?? "",
      /\/hub\/api\/oauth2\/authorize\?client_id=service-dask-gateway/,
    );
  });

  it("refuses another user's dashboard on encoded, doubled-slash and dot-segment paths", async () => {
    const gw = "/services/dask-gateway";
    const spellings = [
      `${gw}/%63lusters/${clusterName}/status`,
      `${gw}//clusters/${clusterName}/status`,
      `${gw}/./clusters/${clusterName}/status`,
      `${gw}/api/../clusters/${clusterName}/status`,
      `${gw}/%63%6c%75%73%74%65%72%73/${clusterName}/%73tatus`,
    ];
    for (const path of spellings) {
      for (const token of [tokens[bob], undefined]) {
        const r = await rawGet(p.port, path, token);
        assert.ok(
          r.status !== 200 && !/bokeh/i.test(r.text),
          `${path} as ${token ? "bob" : "nobody"}: ${r.status}`,
        );
      }
    }
    const owner = await rawGet(p.port, `${gw}/%63lusters/${clusterName}/status`, tokens[alice]);
    assert.equal(owner.status, 200, "the owner is served on the canonical spelling of an encoded path");
  });

  it("does not let another user list or connect to the cluster", async () => {
    const out = await run(
      bob,
      [
        "from dask_gateway import Gateway",
        "g = Gateway()",
        "print(len(g.list_clusters()))",
        "try:",
        `    g.connect(${JSON.stringify(clusterName)})`,
        "    print('connected')",
        "except Exception as e:",
        "    print('refused', type(e).__name__)",
      ].join("\n"),
    );
    const [count, connect] = out.split("\n");
    assert.equal(count, "0");
    assert.match(connect ?? "", /^refused /);
  });

  it("refuses to scale past the per-user limit, naming the limit", async () => {
    const out = await run(
      alice,
      ["try:", "    cluster.scale(3)", "    print('scaled')", "except Exception as e:", "    print(e)"].join(
        "\n",
      ),
    );
    assert.match(out, /exceed your limit of 2 workers/);
    assert.match(out, /max_workers/);
  });

  it("caps the clusters a user runs at once, naming the limit", async () => {
    // Each cluster's scheduler takes memory of its own: without a cap, clusters with no
    // workers would hold scheduler memory past the user's limit.
    const out = await run(
      alice,
      [
        "g = Gateway()",
        "second = g.new_cluster()",
        "try:",
        "    g.new_cluster()",
        "    print('third started')",
        "except Exception as e:",
        "    print(e)",
        "second.shutdown()",
      ].join("\n"),
    );
    assert.match(out, /you already run 2 Dask clusters, your limit of 2.*max_clusters/, out);
  });

  it("keeps the running cluster through a gateway restart", async () => {
    // The task that kept the cluster busy holds one of the two workers' threads, which
    // the computation below needs (cancelling it would not free the thread): it ends now.
    assert.equal(await run(alice, "hold.set()\nprint(keepalive.result(timeout=60))"), "True");
    const pidFile = join(p.dirs.state, "run", "dask-gateway.pid");
    const old = Number(readFileSync(pidFile, "utf8"));
    process.kill(old, "SIGTERM");
    await waitFor(
      "a new gateway process",
      () => {
        const now = existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8")) : 0;
        return now !== old && now > 0 && pidAlive(now) ? true : undefined;
      },
      60_000,
    );
    const out = await waitFor(
      "the gateway to list the cluster again",
      async () => {
        const r = await kernels[alice]?.execute("print([c.name for c in Gateway().list_clusters()])", 60_000);
        return r?.status === "ok" && r.stdout.includes(clusterName) ? r.stdout : undefined;
      },
      90_000,
      2000,
    );
    assert.ok(out.includes(clusterName));
    assert.equal(await run(alice, "print(int(da.ones(100, chunks=10).sum().compute()))"), "100");
  });

  it("shows the cluster in atrium status", async () => {
    const r = await p.atrium(["status", "-c", p.configFile, "--json"]);
    const status = JSON.parse(r.stdout) as { daskClusters: Array<{ name: string; user: string }> };
    assert.deepEqual(
      status.daskClusters.filter((c) => c.name === clusterName),
      [{ name: clusterName, user: alice, status: "running", workers: 2 }],
    );
  });

  it("shuts a cluster down after the idle timeout", async () => {
    await run(alice, "cluster.shutdown()\nclient.close()");
    const idle = await run(alice, "idle = g.new_cluster(shutdown_on_close=False)\nprint(idle.name)");
    await waitFor(
      "the idle cluster to be stopped",
      async () => {
        const r = await kernels[alice]?.execute("print([c.name for c in Gateway().list_clusters()])", 60_000);
        return r?.status === "ok" && !r.stdout.includes(idle) ? true : undefined;
      },
      180_000,
      5000,
    );
  });
});
