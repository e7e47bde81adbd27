/**
 * Dask cluster start-up on this machine: time from new_cluster() to 2 workers ready,
 * and from a scale-up call to the new worker ready, measured from a user's kernel.
 * Usage: node dist/bench/dask.js [RUNS]   (default 5)
 */
import { KernelClient } from "../test/e2e/kernel.js";
import { medians, timeDaskStarts } from "./dask-start.js";
import { secs, withPlatform } from "./support.js";

const runs = Number(process.argv[2] ?? 5);

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
    const m = medians(await timeDaskStarts(kernel, runs));
    kernel.close();
    process.stdout.write(
      `\nDask on this machine (${runs} runs, LocalBackend, TLS):\n` +
        `  new_cluster() to 2 workers ready: median ${secs(m.start)}\n` +
        `  scale-up call to new worker ready: median ${secs(m.scale)}\n` +
        "  (reference: dask-gateway on Kubernetes is reported at under 10 s for a new cluster when capacity exists)\n",
    );
  },
);
