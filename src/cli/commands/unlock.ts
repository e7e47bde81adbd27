/** `atrium unlock [--force]`: remove the deploy lock a deploy or destroy left when it died. */
import { DEPLOYED_CONFIG_OPTION, parseCommandArgs } from "../args.js";
import { deployedTarget } from "../deployed.js";

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    "unlock",
    args,
    { ...DEPLOYED_CONFIG_OPTION, force: { type: "boolean", default: false } },
    "[-c FILE] [--force]",
  );
  if (!parsed) return 0;
  const target = deployedTarget(parsed.values.config);
  process.stdout.write(`${await target.lock.unlock(Boolean(parsed.values.force))}\n`);
  return 0;
}
