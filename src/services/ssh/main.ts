/**
 * `atrium service ssh --config <prefix>/etc/services/ssh.json`: the SSH gateway,
 * run as root by the supervisor. It reads only its rendered config and the host
 * key named there; it stops on SIGTERM/SIGINT, leaving programs that users started
 * without a terminal running (as an sshd restart would).
 */
import { readFileSync } from "node:fs";
import { AtriumError } from "../../errors.js";
import type { SshServiceConfig } from "../../targets/local/ssh-config.js";
import { startGateway } from "./gateway.js";
import { log } from "./log.js";

function readConfig(file: string): SshServiceConfig {
  let config: SshServiceConfig;
  try {
    config = JSON.parse(readFileSync(file, "utf8")) as SshServiceConfig;
  } catch (err) {
    throw new AtriumError(
      "file-not-found",
      `can't read ${file}: ${(err as Error).message}`,
      "run atrium deploy",
    );
  }
  if (config.version !== 1) {
    throw new AtriumError(
      "config-invalid",
      `${file} has version ${String(config.version)}, not 1`,
      "run atrium deploy",
    );
  }
  return config;
}

export async function main(configFile: string): Promise<void> {
  const config = readConfig(configFile);
  if (process.getuid?.() !== 0) {
    throw new AtriumError(
      "prerequisite",
      "the SSH gateway must run as root",
      "it is started by the supervisor",
    );
  }
  const gateway = await startGateway(config);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log(`${signal}: stopping (${gateway.status.count()} open sessions end)`);
      gateway.status.writeNow(true);
      resolve();
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
  process.exit(0);
}
