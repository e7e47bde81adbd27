/** `atrium deploy`: bring this machine in line with the file, changing only what changed. */
import { loadConfig } from "../../config/load.js";
import { deploy } from "../../deploy/deploy.js";
import { summarize } from "../../deploy/engine.js";
import { CONFIG_OPTION, parseCommandArgs } from "../args.js";
import { consoleReporter } from "../reporter.js";

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    "deploy",
    args,
    { ...CONFIG_OPTION, verbose: { type: "boolean", short: "v", default: false } },
    "[-c FILE] [--verbose]",
  );
  if (!parsed) return 0;
  const file = parsed.values.config as string;
  const config = loadConfig(file);
  const started = Date.now();
  const changes = await deploy(config, file, consoleReporter(Boolean(parsed.values.verbose)));
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  process.stdout.write(`\nDeployed in ${seconds}s: ${summarize(changes).replace(/to /g, "")}\n`);
  return 0;
}
