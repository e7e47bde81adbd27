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
import { namespaceGone, readOrUndefined } from "../test/cluster/package-index.js";
import { platformSecret, runAtrium, type TeamSite } from "../test/cluster/team-deploy.js";
import { startBareHub } from "./bare-kubespawner.js";
import { withBenchSite } from "./cluster-site.js";
import { alternateSpawns, type Hub, hubApi, spawnSummary } from "./hub-spawn.js";
import { median, secs } from "./support.js";

const spawns = Number(process.argv[2] ?? 5);
/** The bare JupyterHub's namespace, beside the site's. */
const bareNamespaceOf = (site: TeamSite) => `${site.namespace}-jh`;
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

await withBenchSite(
  "atrium-bench",
  async ({ cluster, core, site, signal, prepare }) => {
    await prepare();
    const atrium: Hub = { name: "Atrium", api: `${site.base}/hub/api`, token: "" };

    const firstStarted = Date.now();
    await timedDeploy(site, signal);
    atrium.token = await platformSecret(core, site.namespace, "atrium_api_token");
    await untilAnswers(atrium, 120);
    const first = Date.now() - firstStarted;
    process.stdout.write(`first deploy to a ready hub: ${secs(first)}\n`);

    const noop: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await timedDeploy(site, signal);
      if (!/0 create, 0 update, 0 delete/.test(r.out))
        throw new Error(`redeploy ${i + 1} was not a no-op:\n${redacted(r.out)}`);
      noop.push(r.ms);
    }
    process.stdout.write(`no-op redeploys: ${noop.map(secs).join(", ")}\n`);

    const bareStarted = Date.now();
    const bare = await startBareHub(cluster.kc, site, bareNamespaceOf(site), USER);
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
  },
  // the bare hub's namespace goes first
  async ({ core, site }) => {
    const bare = bareNamespaceOf(site);
    await readOrUndefined(() => core.deleteNamespace({ name: bare }));
    await namespaceGone(core, bare, 180);
  },
);
