/**
 * `atrium plan`: what deploy would change, component by component, and inside each
 * (users added, files that change, processes that restart); touches nothing.
 */
import { loadConfig } from "../../config/load.js";
import { plan } from "../../deploy/deploy.js";
import { summarize } from "../../deploy/engine.js";
import { CONFIG_OPTION, parseCommandArgs } from "../args.js";
import { SYMBOL } from "../reporter.js";

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    "plan",
    args,
    { ...CONFIG_OPTION, json: { type: "boolean", default: false } },
    "[-c FILE] [--json]",
  );
  if (!parsed) return 0;
  const file = parsed.values.config as string;
  const checks: string[] = [];
  const changes = await plan(loadConfig(file), file, (line) => checks.push(line));
  if (parsed.values.json) {
    process.stdout.write(`${JSON.stringify({ checks, changes, summary: summarize(changes) }, null, 2)}\n`);
    return 0;
  }
  for (const line of checks) process.stdout.write(`${line}\n`);
  if (checks.length > 0) process.stdout.write("\n");
  for (const c of changes) {
    const why = c.reason ? ` (${c.reason})` : "";
    process.stdout.write(
      `${SYMBOL[c.kind]} ${c.kind.padEnd(7)} ${c.component.padEnd(16)} ${c.title}${why}\n`,
    );
    if (c.kind !== "same") for (const line of c.details ?? []) process.stdout.write(`            ${line}\n`);
    for (const line of c.warnings ?? []) process.stdout.write(`          ! ${line}\n`);
  }
  process.stdout.write(`\nPlan: ${summarize(changes)}\n`);
  return 0;
}
