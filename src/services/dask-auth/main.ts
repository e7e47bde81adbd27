/** `atrium service dask-auth --config FILE`: the Dask dashboard guard (see guard.ts). */
import { readFileSync } from "node:fs";
import { readDaskAuthConfig } from "./config.js";
import { createGuard } from "./guard.js";

export async function main(configFile: string): Promise<void> {
  const config = readDaskAuthConfig(configFile);
  const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  const server = createGuard({
    upstream: config.upstream,
    prefix: config.prefix,
    hubApiUrl: config.hubApiUrl,
    hubPrefix: config.hubPrefix,
    clientId: config.clientId,
    clientSecret: readFileSync(config.apiTokenFile, "utf8").trim(),
    log,
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.listen.port, config.listen.host, resolve);
  });
  log(`guarding Dask dashboards on ${config.listen.host}:${config.listen.port} -> ${config.upstream}`);
  await new Promise<never>(() => {});
}
