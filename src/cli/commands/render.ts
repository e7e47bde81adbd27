/** `atrium render`: write the target's artifacts; `--check` lists files that differ instead. */
import { loadConfig } from "../../config/load.js";
import { compareArtifacts, writeArtifacts } from "../../lib/artifact-files.js";
import { targetFor } from "../../targets/registry.js";
import { CONFIG_OPTION, parseCommandArgs } from "../args.js";

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    "render",
    args,
    {
      ...CONFIG_OPTION,
      out: { type: "string", short: "o", default: "rendered" },
      check: { type: "boolean", default: false },
    },
    "[-c FILE] [-o DIR] [--check]",
  );
  if (!parsed) return 0;
  const { config: file, out, check } = parsed.values as { config: string; out: string; check: boolean };
  const artifacts = targetFor(loadConfig(file), file).render();
  if (check) {
    const drift = compareArtifacts(out, artifacts);
    const lines = [
      ...drift.changed.map((f) => `changed  ${f}`),
      ...drift.missing.map((f) => `missing  ${f}`),
      ...drift.extra.map((f) => `extra    ${f}`),
    ];
    if (lines.length === 0) {
      process.stdout.write(`${out}: up to date (${artifacts.size} files)\n`);
      return 0;
    }
    process.stdout.write(`${lines.join("\n")}\n`);
    process.stderr.write(
      `${out}: ${lines.length} file(s) differ from a fresh render; run atrium render -o ${out}\n`,
    );
    return 1;
  }
  const changed = writeArtifacts(out, artifacts);
  process.stdout.write(`${out}: ${artifacts.size} files, ${changed.length} written\n`);
  for (const f of changed) process.stdout.write(`  ${f}\n`);
  return 0;
}
