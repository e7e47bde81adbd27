/**
 * The SSH gateway of the kubernetes target as one file (scripts/bundle.mjs makes
 * dist/ssh-gateway.mjs from this), run in its pod with Node from a wheel:
 * `node ssh-gateway.mjs CONFIGMAP`. It reads its config from that ConfigMap
 * through the API server and keeps reading it while it runs.
 */
import { log } from "../log.js";
import { clusterConfigSource, readClusterConfig } from "./cluster-config.js";
import { inClusterApi } from "./in-cluster.js";
import { startKubeGateway } from "./kube-gateway.js";

async function main(configMap: string): Promise<void> {
  const api = inClusterApi();
  const first = await readClusterConfig(api, configMap);
  const gateway = await startKubeGateway(api, first, clusterConfigSource(api, configMap, first, log));
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log(`${signal}: stopping (${gateway.status.count()} open sessions end)`);
      resolve();
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
  await gateway.status.writeNow(true);
  process.exit(0);
}

const configMap = process.argv[2];
if (configMap === undefined) {
  process.stderr.write("usage: node ssh-gateway.mjs CONFIGMAP\n");
  process.exit(2);
}
main(configMap).catch((err: unknown) => {
  process.stderr.write(`ssh gateway: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
