/**
 * `atrium supervise`: the supervisor in the foreground (deploy starts it detached).
 * When Atrium is updated it hands over to a new supervisor started from the new code.
 */
import { spawn } from "node:child_process";
import { AtriumError } from "../../errors.js";
import { pidAlive } from "../../lib/process.js";
import { atriumCommand } from "./programs.js";
import { Supervisor } from "./supervisor.js";

/** Runs the supervisor of `spec` until a signal stops it, after `after` (the supervisor it takes over from) has gone. */
export async function supervise(spec: string, after: number): Promise<never> {
  // Taking over from a supervisor that is exiting: wait until it has gone.
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
  return new Promise<never>(() => {});
}
