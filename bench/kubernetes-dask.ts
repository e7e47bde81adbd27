/**
 * Dask start-up on the kubernetes target, on the test cluster: the team example (with its
 * small workers cut to 0.2 cores and 600M so three fit on the shared 2-core node) is
 * deployed, grace's server started, and from her kernel the time from new_cluster() to 2
 * worker pods ready and from a scale-up call to the third, median of the runs; the same
 * measurement as bench/dask.ts on the local target.
 * Everything it made (namespace, volumes, host folder, and the package index when this run
 * started it) is removed at the end, also on failure or Ctrl-C.
 * Usage (root, test cluster built): node dist/bench/kubernetes-dask.js [RUNS]   (default 5)
 */
import { writeFileSync } from "node:fs";
import { siteHub } from "../test/cluster/site-hub.js";
import {
  platformSecret,
  runAtrium,
  teamConfigText,
  withSmallDaskWorkers,
} from "../test/cluster/team-deploy.js";
import { KernelClient } from "../test/e2e/kernel.js";
import { withBenchSite } from "./cluster-site.js";
import { medians, timeDaskStarts } from "./dask-start.js";
import { secs } from "./support.js";

const runs = Number(process.argv[2] ?? 5);
const USER = "grace";
let kernel: KernelClient | undefined;

await withBenchSite(
  "atrium-bdask",
  async ({ core, site, signal, prepare }) => {
    writeFileSync(site.file, withSmallDaskWorkers(teamConfigText(site, await prepare())));
    const deployed = await runAtrium(["deploy", "-c", site.file], site.env, { signal });
    if (deployed.code !== 0) throw new Error(`atrium deploy failed (exit ${deployed.code})`);
    const hub = siteHub(site.base);
    const admin = await platformSecret(core, site.namespace, "atrium_api_token");
    await hub.spawnReady(admin, USER);
    kernel = await KernelClient.start(`${site.base}/user/${USER}`, await hub.userToken(admin, USER), 180_000);
    const m = medians(await timeDaskStarts(kernel, runs));
    process.stdout.write(
      `\nDask on the kubernetes target (${runs} runs; one shared node, images cached, TLS; each worker a pod of 0.2 cores):\n` +
        `  new_cluster() to 2 worker pods ready: median ${secs(m.start)}\n` +
        `  scale-up call to a new worker pod ready: median ${secs(m.scale)}\n` +
        "  (the local target's figures: node dist/bench/dask.js)\n",
    );
  },
  async () => kernel?.close(),
);
