/**
 * The Dask start-up measurement both Dask benchmarks run in a user's kernel: from
 * new_cluster() to 2 workers ready, then from a scale-up call to the third worker ready;
 * the cluster is shut down at the end of each run.
 */
import type { KernelClient } from "../test/e2e/kernel.js";
import { median, secs } from "./support.js";

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

export interface DaskStartTimes {
  /** new_cluster() to 2 workers ready, ms, per run. */
  start: number[];
  /** a scale-up call to the third worker ready, ms, per run. */
  scale: number[];
}

/** `runs` runs in the kernel, a line each on stdout. */
export async function timeDaskStarts(kernel: KernelClient, runs: number): Promise<DaskStartTimes> {
  const times: DaskStartTimes = { start: [], scale: [] };
  for (let i = 0; i < runs; i++) {
    const r = await kernel.execute(CELL, 900_000);
    if (r.status !== "ok") throw new Error(`run ${i + 1} failed: ${r.error?.evalue ?? r.stderr}`);
    const [a, b] = r.stdout.trim().split(" ").map(Number);
    times.start.push(a ?? 0);
    times.scale.push(b ?? 0);
    process.stdout.write(
      `run ${i + 1}: new cluster to 2 workers ${secs(a ?? 0)}, scale-up to 3rd worker ${secs(b ?? 0)}\n`,
    );
  }
  return times;
}

export const medians = (t: DaskStartTimes) => ({ start: median(t.start), scale: median(t.scale) });
