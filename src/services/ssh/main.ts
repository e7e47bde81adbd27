/**
 * `atrium service ssh --config <prefix>/etc/services/ssh.json`: the SSH gateway,
 * run as root by the supervisor. It reads only its rendered config and the host
 * key named there; on SIGHUP it re-reads the config (open sessions keep running);
 * it stops on SIGTERM/SIGINT, leaving programs that users started without a
 * terminal running (as an sshd restart would).
 */
import { AtriumError } from "../../errors.js";
import { configSource } from "./config-file.js";
import { startGateway } from "./gateway.js";
import { log } from "./log.js";

export async function main(configFile: string): Promise<void> {
  // Before anything that waits: SIGHUP's default action would end the gateway.
  let reload = () => log("SIGHUP before the gateway listened: it reads the config as it starts");
  process.on("SIGHUP", () => reload());
  const source = configSource(configFile, log);
  if (process.getuid?.() !== 0) {
    throw new AtriumError(
      "prerequisite",
      "the SSH gateway must run as root",
      "it is started by the supervisor",
    );
  }
  const gateway = await startGateway(source);
  reload = () => source.reload();
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
