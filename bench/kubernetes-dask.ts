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
import { CoreV1Api } from "@kubernetes/client-node";
import { testCluster } from "../test/cluster/cluster-access.js";
import { INDEX_NAMESPACE, readOrUndefined } from "../test/cluster/package-index.js";
import { siteHub } from "../test/cluster/site-hub.js";
import {
  platformSecret,
  prepareTeamSite,
  removeTeamSite,
  runAtrium,
  teamConfigText,
  teamSite,
  withSmallDaskWorkers,
} from "../test/cluster/team-deploy.js";
import { KernelClient } from "../test/e2e/kernel.js";
import { medians, timeDaskStarts } from "./dask-start.js";
import { secs } from "./support.js";

const runs = Number(process.argv[2] ?? 5);
const USER = "grace";

const found = await testCluster();
if (typeof found === "string") {
  process.stderr.write(`no test cluster: ${found}\n`);
  process.exit(1);
}
const cluster = found;
const core = cluster.kc.makeApiClient(CoreV1Api);
const site = teamSite("atrium-bdask");
// the package index is shared with other runs on the cluster: only one this run started is removed
const indexWasThere = (await readOrUndefined(() => core.readNamespace({ name: INDEX_NAMESPACE })))?.status;
let stopIndex: (() => Promise<void>) | undefined;
let kernel: KernelClient | undefined;

let cleaning: Promise<void> | undefined;
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    process.stderr.write(`removing ${site.namespace}, its volumes and ${site.work}\n`);
    try {
      kernel?.close();
      await removeTeamSite(core, site);
      if (indexWasThere?.phase !== "Active") await stopIndex?.();
    } finally {
      cluster.stop();
    }
  })();
  return cleaning;
}
const onSignal = (signal: NodeJS.Signals) => {
  process.stderr.write(`${signal}: stopping\n`);
  cleanUp().finally(() => process.exit(130));
};
process.once("SIGINT", onSignal);
process.once("SIGTERM", onSignal);

try {
  const index = await prepareTeamSite(cluster.kc, core, site);
  stopIndex = index.stop;
  writeFileSync(site.file, withSmallDaskWorkers(teamConfigText(site, index.url)));
  const deployed = await runAtrium(["deploy", "-c", site.file], site.env);
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
} finally {
  await cleanUp();
}
