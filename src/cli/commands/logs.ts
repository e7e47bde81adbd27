/** `atrium logs SERVICE [-f] [-n N]`: the end of a supervised process's log, optionally following it. */
import { AtriumError } from "../../errors.js";
import { DEPLOYED_CONFIG_OPTION, parseCommandArgs } from "../args.js";
import { deployedTarget } from "../deployed.js";

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    "logs",
    args,
    {
      ...DEPLOYED_CONFIG_OPTION,
      follow: { type: "boolean", short: "f", default: false },
      lines: { type: "string", short: "n", default: "50" },
    },
    "SERVICE [-c FILE] [-f] [-n LINES]",
    true,
  );
  if (!parsed) return 0;
  const target = deployedTarget(parsed.values.config);
  const names = target.logNames();
  const name = parsed.positionals[0];
  if (!name || !names.includes(name)) {
    throw new AtriumError(
      "usage",
      name ? `no service "${name}"` : "name a service",
      `services: ${names.join(", ")}`,
    );
  }
  const lines = Number.parseInt(parsed.values.lines as string, 10) || 50;
  await target.logs(name, {
    lines,
    follow: Boolean(parsed.values.follow),
    write: (text) => process.stdout.write(text),
  });
  return 0;
}
