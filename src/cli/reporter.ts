/** Deploy progress on the terminal: a line per component with elapsed time. */
import type { Change } from "../deploy/change.js";
import type { Reporter } from "../deploy/engine.js";
import { AtriumError } from "../errors.js";

export const SYMBOL: Record<Change["kind"], string> = {
  create: "+",
  update: "~",
  replace: "±",
  delete: "-",
  same: "=",
};

export function consoleReporter(verbose: boolean): Reporter {
  let heartbeat: NodeJS.Timeout | undefined;
  let started = 0;
  const write = (s: string) => process.stdout.write(`${s}\n`);
  const stop = () => {
    if (heartbeat) clearInterval(heartbeat);
    heartbeat = undefined;
  };
  return {
    start(change) {
      started = Date.now();
      write(`${SYMBOL[change.kind]} ${change.component.padEnd(16)} ${change.title} ...`);
      heartbeat = setInterval(() => {
        write(`    ... still working on ${change.component} (${Math.round((Date.now() - started) / 1000)}s)`);
      }, 15_000);
      heartbeat.unref();
    },
    detail(line) {
      if (verbose) write(`    ${line}`);
    },
    important(line) {
      write(`\n  ${line}\n`);
    },
    done(change, seconds, note) {
      stop();
      write(
        `  ${change.component.padEnd(16)} ${change.kind}d in ${seconds.toFixed(1)}s${note ? ` (${note})` : ""}`,
      );
    },
    failed(change, seconds, err) {
      stop();
      const why = err instanceof AtriumError ? "" : ` (${String(err)})`;
      write(`  ${change.component.padEnd(16)} FAILED after ${seconds.toFixed(1)}s${why}`);
    },
  };
}
