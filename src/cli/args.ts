/** Command-line option parsing shared by the commands; bad options are usage errors. */
import { type ParseArgsConfig, parseArgs } from "node:util";
import { AtriumError } from "../errors.js";

type Options = NonNullable<ParseArgsConfig["options"]>;

export function parseCommandArgs<T extends Options>(
  command: string,
  args: string[],
  options: T,
  usage: string,
  allowPositionals = false,
) {
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(`usage: atrium ${command} ${usage}\n`);
    return undefined;
  }
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (err) {
    throw new AtriumError("usage", (err as Error).message, `usage: atrium ${command} ${usage}`);
  }
}

export const CONFIG_OPTION = { config: { type: "string", short: "c", default: "atrium.yaml" } } as const;

/**
 * -c FILE for commands on a deployed platform (status, logs, env, passwd, destroy):
 * without it they read ./atrium.yaml, or else the deployed file (resolveConfigFile).
 */
export const DEPLOYED_CONFIG_OPTION = { config: { type: "string", short: "c" } } as const;
