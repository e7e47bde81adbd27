/**
 * The kubernetes target's numbers, side by side in one run on the test cluster:
 *  - the team example's first deploy, to a hub that answers through its node port,
 *  - no-op redeploys (median of 5),
 *  - spawn latency through the hub's REST API (median and p95), against a bare JupyterHub
 *    with KubeSpawner in a second namespace on the same cluster, starting the same user
 *    server (same image, command and user environment; bare-kubespawner.ts); spawns
 *    alternate between the two so load affects both alike.
 * Everything it made (both namespaces, the volumes, the host folder, and the package index
 * when this run started it) is removed at the end, also on failure or Ctrl-C.
 * Usage (root, test cluster built): node dist/bench/kubernetes.js [SPAWNS_EACH]   (default 5)
 */
import { CoreV1Api } from "@kubernetes/client-node";
import { testCluster } from "../test/cluster/cluster-access.js";
import { INDEX_NAMESPACE, namespaceGone, readOrUndefined } from "../test/cluster/package-index.js";
import {
  platformSecret,
  prepareTeamSite,
  removeTeamSite,
  runAtrium,
  type TeamSite,
  teamSite,
} from "../test/cluster/team-deploy.js";
import { startBareHub } from "./bare-kubespawner.js";
import { alternateSpawns, type Hub, hubApi, spawnSummary } from "./hub-spawn.js";
import { median, secs } from "./support.js";

const spawns = Number(process.argv[2] ?? 5);
const USER = "grace";

/** The first login's password is printed once by the first deploy: never in this script's output. */
const redacted = (out: string) => out.replace(/(password ")[^"]*"/g, '$1…"');

async function timedDeploy(site: TeamSite, signal: AbortSignal): Promise<{ ms: number; out: string }> {
  const started = Date.now();
  const r = await runAtrium(["deploy", "-c", site.file], site.env, { signal });
  if (r.code !== 0) throw new Error(`atrium deploy failed (exit ${r.code}):\n${redacted(r.out)}`);
  return { ms: Date.now() - started, out: r.out };
}

async function untilAnswers(hub: Hub, seconds: number): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while ((await hubApi(hub, "GET", "/").catch(() => ({ status: 0 }))).status !== 200) {
    if (Date.now() > deadline) throw new Error(`${hub.name}: ${hub.api} does not answer after ${seconds} s`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

const found = await testCluster();
if (typeof found === "string") {
  process.stderr.write(`no test cluster: ${found}\n`);
  process.exit(1);
}
const cluster = found;
const core = cluster.kc.makeApiClient(CoreV1Api);
const site = teamSite("atrium-bench");
const bareNamespace = `${site.namespace}-jh`;
const aborted = new AbortController();
// the package index is shared with other runs on the cluster: only one this run started is removed
const indexWasThere = (await readOrUndefined(() => core.readNamespace({ name: INDEX_NAMESPACE })))?.status;
let stopIndex: (() => Promise<void>) | undefined;

let cleaning: Promise<void> | undefined;
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    process.stderr.write(`removing ${bareNamespace}, ${site.namespace}, their volumes and ${site.work}\n`);
    try {
      await readOrUndefined(() => core.deleteNamespace({ name: bareNamespace }));
      await namespaceGone(core, bareNamespace, 180);
    } finally {
      await removeTeamSite(core, site);
      if (indexWasThere?.phase !== "Active") await stopIndex?.();
      cluster.stop();
    }
  })();
  return cleaning;
}
const onSignal = (signal: NodeJS.Signals) => {
  process.stderr.write(`${signal}: stopping\n`);
  aborted.abort();
  cleanUp().finally(() => process.exit(130));
};
process.once("SIGINT", onSignal);
process.once("SIGTERM", onSignal);

try {
  stopIndex = (await prepareTeamSite(cluster.kc, core, site)).stop;
  const atrium: Hub = { name: "Atrium", api: `${site.base}/hub/api`, token: "" };

  const firstStarted = Date.now();
  await timedDeploy(site, aborted.signal);
  atrium.token = await platformSecret(core, site.namespace, "atrium_api_token");
  await untilAnswers(atrium, 120);
  const first = Date.now() - firstStarted;
  process.stdout.write(`first deploy to a ready hub: ${secs(first)}\n`);

  const noop: number[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await timedDeploy(site, aborted.signal);
    if (!/0 create, 0 update, 0 delete/.test(r.out))
      throw new Error(`redeploy ${i + 1} was not a no-op:\n${redacted(r.out)}`);
    noop.push(r.ms);
  }
  process.stdout.write(`no-op redeploys: ${noop.map(secs).join(", ")}\n`);

  const bareStarted = Date.now();
  const bare = await startBareHub(cluster.kc, site, bareNamespace, USER);
  process.stdout.write(`bare JupyterHub + KubeSpawner ready in ${secs(Date.now() - bareStarted)}\n`);

  const times = await alternateSpawns([atrium, bare], USER, spawns);
  const s = spawnSummary(times[atrium.name] ?? [], times[bare.name] ?? []);
  const row = (what: string, a: string, b = "", ratio = "") =>
    `  ${what.padEnd(30)} ${a.padEnd(10)} ${b.padEnd(16)} ${ratio}\n`;
  process.stdout.write(
    "\nKubernetes target on the test cluster (one node, shared: other people's tests deploy on it " +
      "at the same time, so these timings are noisy):\n" +
      row("", "Atrium", "bare JupyterHub", "Atrium / bare") +
      row("first deploy to a ready hub", secs(first)) +
      row("no-op redeploy (median of 5)", secs(median(noop)), "", "(aim < 3 s)") +
      row(
        `spawn median (${spawns} each)`,
        secs(s.a.median),
        secs(s.b.median),
        `${s.medianRatio} (aim <= 1.2)`,
      ) +
      row(`spawn p95 (${spawns} each)`, secs(s.a.p95), secs(s.b.p95), `${s.p95Ratio} (aim <= 1.2)`),
  );
} finally {
  await cleanUp();
}
