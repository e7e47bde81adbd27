/**
 * `atrium plan`: what deploy would change, component by component, and inside each
 * (users added, files that change, processes that restart); touches nothing. Where the
 * target has an online step (a cluster's dry run), each change shows the fields it
 * changes there and what it restarts or affects, and one line says what was asked or
 * why the step was skipped.
 */
import { loadConfig } from "../../config/load.js";
import type { Change } from "../../deploy/change.js";
import { plan } from "../../deploy/deploy.js";
import { summarize } from "../../deploy/engine.js";
import { capLines } from "../../deploy/spec-diff.js";
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
  const { changes, online } = await plan(loadConfig(file), file, (line) => checks.push(line));
  if (parsed.values.json) {
    process.stdout.write(
      `${JSON.stringify({ checks, changes, online, summary: summarize(changes) }, null, 2)}\n`,
    );
    return 0;
  }
  for (const line of checks) process.stdout.write(`${line}\n`);
  if (checks.length > 0) process.stdout.write("\n");
  for (const c of changes) {
    const why = c.reason ? ` (${c.reason})` : "";
    process.stdout.write(
      `${SYMBOL[c.kind]} ${c.kind.padEnd(7)} ${c.component.padEnd(16)} ${c.title}${why}\n`,
    );
    if (c.kind !== "same") for (const line of linesOf(c)) process.stdout.write(`            ${line}\n`);
    for (const line of c.online?.effects ?? []) process.stdout.write(`          > ${line}\n`);
    for (const line of [...(c.online?.problem ? [c.online.problem] : []), ...(c.warnings ?? [])])
      process.stdout.write(`          ! ${line}\n`);
  }
  if (online) process.stdout.write(`\nOnline step${online.ran ? "" : " skipped"}: ${online.note}\n`);
  process.stdout.write(`\nPlan: ${summarize(changes)}\n`);
  return 0;
}

/** The fields the cluster says change, where the online step found some; else the offline step's lines. */
function linesOf(c: Change): string[] {
  const fields = c.online?.fields ?? [];
  return fields.length ? capLines(fields) : (c.details ?? []);
}
