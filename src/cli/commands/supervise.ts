/** `atrium supervise --spec FILE`: run the supervisor in the foreground (deploy starts it detached). */
import { AtriumError } from "../../errors.js";
import { Supervisor } from "../../targets/local/supervisor.js";
import { parseCommandArgs } from "../args.js";

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs("supervise", args, { spec: { type: "string" } }, "--spec FILE");
  if (!parsed) return 0;
  const spec = parsed.values.spec as string | undefined;
  if (!spec) throw new AtriumError("usage", "--spec is required", "usage: atrium supervise --spec FILE");
  const supervisor = new Supervisor(spec);
  try {
    supervisor.start();
  } catch (err) {
    throw new AtriumError("apply-failed", (err as Error).message);
  }
  // Runs until a signal stops it.
  await new Promise<never>(() => {});
  return 0;
}
