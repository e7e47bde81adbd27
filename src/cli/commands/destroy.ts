/** `atrium destroy [--purge]`: stop the platform and remove its config; --purge removes data and accounts too. */
import { destroy } from "../../deploy/deploy.js";
import { AtriumError } from "../../errors.js";
import { DEPLOYED_CONFIG_OPTION, parseCommandArgs } from "../args.js";
import { deployedTarget } from "../deployed.js";

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    "destroy",
    args,
    {
      ...DEPLOYED_CONFIG_OPTION,
      purge: { type: "boolean", default: false },
      yes: { type: "boolean", short: "y", default: false },
    },
    "[-c FILE] [--purge] [--yes]",
  );
  if (!parsed) return 0;
  const target = deployedTarget(parsed.values.config);
  const purge = Boolean(parsed.values.purge);
  if (purge && !parsed.values.yes) {
    throw new AtriumError(
      "usage",
      "--purge deletes the hub database, shared folders, environments and the accounts Atrium created",
      "add --yes to confirm",
    );
  }
  await destroy(target, purge, {
    detail: (l) => process.stdout.write(`  ${l}\n`),
    important: (l) => process.stdout.write(`${l}\n`),
  });
  process.stdout.write(
    `${target.platform.project.name}: ${purge ? "destroyed and purged" : "stopped and removed (data kept)"}\n`,
  );
  return 0;
}
