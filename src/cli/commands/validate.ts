/** `atrium validate`: every problem of the file, located; exit 0 valid, 1 invalid. */
import { formatProblems, problemsAsJson } from "../../config/format.js";
import { readConfigText, validateText } from "../../config/load.js";
import { CONFIG_OPTION, parseCommandArgs } from "../args.js";

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    "validate",
    args,
    { ...CONFIG_OPTION, json: { type: "boolean", default: false } },
    "[-c FILE] [--json]",
  );
  if (!parsed) return 0;
  const file = parsed.values.config as string;
  const loaded = validateText(file, readConfigText(file));
  if (parsed.values.json) {
    process.stdout.write(problemsAsJson(loaded.problems));
  } else if (loaded.problems.length > 0) {
    process.stdout.write(`${formatProblems(loaded.problems)}\n`);
    const n = loaded.problems.length;
    process.stderr.write(`${file}: ${n} problem${n === 1 ? "" : "s"}\n`);
  } else {
    process.stdout.write(`${file}: valid\n`);
  }
  return loaded.problems.length === 0 ? 0 : 1;
}
