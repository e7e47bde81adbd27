/** `atrium supervise --spec FILE`: run the supervisor in the foreground (deploy starts it detached). */
import { AtriumError } from "../../errors.js";
import { supervise } from "../../targets/registry.js";
import { parseCommandArgs } from "../args.js";

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    "supervise",
    args,
    { spec: { type: "string" }, after: { type: "string" } },
    "--spec FILE [--after PID]",
  );
  if (!parsed) return 0;
  const spec = parsed.values.spec as string | undefined;
  if (!spec) throw new AtriumError("usage", "--spec is required", "usage: atrium supervise --spec FILE");
  // Runs until a signal stops it.
  return supervise(spec, Number(parsed.values.after ?? 0));
}
