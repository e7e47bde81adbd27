/**
 * A benchmark's team site on the test cluster: the cluster found (or the script ends with
 * why not), the site's package index and hub database volume prepared, and everything
 * removed once at the end, also on Ctrl-C: first what the benchmark adds (`beforeRemoval`,
 * e.g. a second namespace), then the site, then the package index when this run started it
 * (other runs on the cluster share it).
 */
import { CoreV1Api } from "@kubernetes/client-node";
import { type TestCluster, testCluster } from "../test/cluster/cluster-access.js";
import { INDEX_NAMESPACE, readOrUndefined } from "../test/cluster/package-index.js";
import { prepareTeamSite, removeTeamSite, type TeamSite, teamSite } from "../test/cluster/team-deploy.js";

export interface BenchSite {
  cluster: TestCluster;
  core: CoreV1Api;
  site: TeamSite;
  /** Aborted on Ctrl-C or SIGTERM. */
  signal: AbortSignal;
  /** The package index's URL, once the site is prepared. */
  prepare(): Promise<string>;
}

export async function withBenchSite(
  prefix: string,
  body: (bench: BenchSite) => Promise<void>,
  beforeRemoval: (bench: BenchSite) => Promise<void> = async () => {},
): Promise<void> {
  const found = await testCluster();
  if (typeof found === "string") {
    process.stderr.write(`no test cluster: ${found}\n`);
    process.exit(1);
  }
  const core = found.kc.makeApiClient(CoreV1Api);
  const site = teamSite(prefix);
  const aborted = new AbortController();
  const indexWasThere = (await readOrUndefined(() => core.readNamespace({ name: INDEX_NAMESPACE })))?.status;
  let stopIndex: (() => Promise<void>) | undefined;
  const bench: BenchSite = {
    cluster: found,
    core,
    site,
    signal: aborted.signal,
    async prepare() {
      const index = await prepareTeamSite(found.kc, core, site);
      stopIndex = index.stop;
      return index.url;
    },
  };
  let cleaning: Promise<void> | undefined;
  const cleanUp = (): Promise<void> => {
    cleaning ??= (async () => {
      process.stderr.write(`removing ${site.namespace}, its volumes and ${site.work}\n`);
      try {
        await beforeRemoval(bench);
      } finally {
        try {
          await removeTeamSite(core, site);
          if (indexWasThere?.phase !== "Active") await stopIndex?.();
        } finally {
          found.stop();
        }
      }
    })();
    return cleaning;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`${signal}: stopping\n`);
    aborted.abort();
    cleanUp().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    await body(bench);
  } finally {
    await cleanUp();
  }
}
