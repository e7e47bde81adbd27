/**
 * Dask cluster start-up on this machine: time from new_cluster() to 2 workers ready,
 * and from a scale-up call to the new worker ready, measured from a user's kernel.
 * Usage: node dist/bench/dask.js [RUNS]   (default 5)
 */
import { KernelClient } from "../test/e2e/kernel.js";
import { median, secs, withPlatform } from "./support.js";

const runs = Number(process.argv[2] ?? 5);

const CELL = `
import time
from dask_gateway import Gateway
g = Gateway()
t0 = time.perf_counter()
cluster = g.new_cluster()
cluster.scale(2)
client = cluster.get_client()
client.wait_for_workers(2, timeout=300)
t1 = time.perf_counter()
cluster.scale(3)
client.wait_for_workers(3, timeout=300)
t2 = time.perf_counter()
client.close()
cluster.shutdown()
print(f"{(t1 - t0) * 1000:.0f} {(t2 - t1) * 1000:.0f}")
`;

await withPlatform(
  (n) => ({
    users: [{ name: n.name("bench"), admin: true }],
    dask: {
      worker_profiles: [{ name: "small", cores: 1, memory: "1G", threads: 1 }],
      limits: { max_workers: 3, max_cores: 3, max_memory: "4G" },
    },
  }),
  async (p) => {
    const user = p.name("bench");
    const deployed = await p.deploy();
    if (deployed.code !== 0) throw new Error(`deploy failed: ${deployed.stderr}`);
    const token = await p.userToken(user);
    await p.hubApi(`/users/${user}/server`, { method: "POST", body: {}, token });
    for (let i = 0; i < 240; i++) {
      const m = (await p.hubApi(`/users/${user}`)).json<{ servers?: Record<string, { ready: boolean }> }>();
      if (m.servers?.[""]?.ready) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    const kernel = await KernelClient.start(`${p.url}/user/${user}`, token);
    const start: number[] = [];
    const scale: number[] = [];
    for (let i = 0; i < runs; i++) {
      const r = await kernel.execute(CELL, 600_000);
      if (r.status !== "ok") throw new Error(`run ${i + 1} failed: ${r.error?.evalue ?? r.stderr}`);
      const [a, b] = r.stdout.trim().split(" ").map(Number);
      start.push(a ?? 0);
      scale.push(b ?? 0);
      process.stdout.write(
        `run ${i + 1}: new cluster to 2 workers ${secs(a ?? 0)}, scale-up to 3rd worker ${secs(b ?? 0)}\n`,
      );
    }
    kernel.close();
    process.stdout.write(
      `\nDask on this machine (${runs} runs, LocalBackend, TLS):\n` +
        `  new_cluster() to 2 workers ready: median ${secs(median(start))}\n` +
        `  scale-up call to new worker ready: median ${secs(median(scale))}\n` +
        "  (reference: dask-gateway on Kubernetes is reported at under 10 s for a new cluster when capacity exists)\n",
    );
  },
);
