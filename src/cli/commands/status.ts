/** `atrium status`: is each part up, which users have servers, are limits enforced. */
import { DEPLOYED_CONFIG_OPTION, parseCommandArgs } from "../args.js";
import { deployedTarget } from "../deployed.js";

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    "status",
    args,
    { ...DEPLOYED_CONFIG_OPTION, json: { type: "boolean", default: false } },
    "[-c FILE] [--json]",
  );
  if (!parsed) return 0;
  const st = await deployedTarget(parsed.values.config).status();
  if (parsed.values.json) process.stdout.write(`${JSON.stringify(st.report, null, 2)}\n`);
  else for (const line of st.lines) process.stdout.write(`${line}\n`);
  return st.answering ? 0 : 1;
}
