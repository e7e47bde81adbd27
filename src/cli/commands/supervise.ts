/** `atrium supervise --spec FILE`: run the supervisor in the foreground (deploy starts it detached). */

import { spawn } from "node:child_process";
import { AtriumError } from "../../errors.js";
import { pidAlive } from "../../lib/process.js";
import { atriumCommand } from "../../targets/local/programs.js";
import { Supervisor } from "../../targets/local/supervisor.js";
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
  // Taking over from a supervisor that is exiting: wait until it has gone.
  const after = Number(parsed.values.after ?? 0);
  for (let i = 0; after > 0 && pidAlive(after) && i < 200; i++) await new Promise((r) => setTimeout(r, 50));
  const supervisor = new Supervisor(spec, (file) => {
    // Under systemd the unit restarts the supervisor itself (Restart=always).
    if (process.env.INVOCATION_ID) return;
    const [node, script] = atriumCommand();
    const child = spawn(
      node ?? process.execPath,
      [script ?? "", "supervise", "--spec", file, "--after", String(process.pid)],
      {
        detached: true,
        stdio: ["ignore", "inherit", "inherit"],
        cwd: "/",
      },
    );
    child.unref();
  });
  try {
    supervisor.start();
  } catch (err) {
    throw new AtriumError("apply-failed", (err as Error).message);
  }
  // Runs until a signal stops it.
  await new Promise<never>(() => {});
  return 0;
}
