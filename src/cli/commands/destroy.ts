/** `atrium destroy [--purge]`: stop the platform and remove its config; --purge removes data and accounts too. */
import { acquireLock } from "../../deploy/lock.js";
import { AtriumError } from "../../errors.js";
import { destroyLocal } from "../../targets/local/destroy.js";
import { DEPLOYED_CONFIG_OPTION, parseCommandArgs } from "../args.js";
import { deployedPlatform } from "../deployed.js";

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
  const platform = deployedPlatform(parsed.values.config);
  const purge = Boolean(parsed.values.purge);
  if (purge && !parsed.values.yes) {
    throw new AtriumError(
      "usage",
      "--purge deletes the hub database, shared folders, environments and the accounts Atrium created",
      "add --yes to confirm",
    );
  }
  const { existsSync } = await import("node:fs");
  const release = existsSync(platform.paths.stateDir)
    ? acquireLock(platform.paths.stateDir, "deploy or destroy")
    : () => {};
  try {
    await destroyLocal(platform, purge, {
      detail: (l) => process.stdout.write(`  ${l}\n`),
      important: (l) => process.stdout.write(`${l}\n`),
    });
  } finally {
    release();
  }
  process.stdout.write(
    `${platform.project.name}: ${purge ? "destroyed and purged" : "stopped and removed (data kept)"}\n`,
  );
  return 0;
}
