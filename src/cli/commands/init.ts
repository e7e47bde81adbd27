/**
 * `atrium init`: write a commented atrium.yaml that validates. Asks for each answer
 * on a terminal; with --yes (or without a terminal) takes flags and defaults.
 * Never overwrites an existing file without --force.
 */
import { existsSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline/promises";
import { formatProblems } from "../../config/format.js";
import { validateText } from "../../config/load.js";
import { AtriumError } from "../../errors.js";
import { parseCommandArgs } from "../args.js";
import { type InitAnswers, initYaml } from "./init-template.js";

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    "init",
    args,
    {
      config: { type: "string", short: "c", default: "atrium.yaml" },
      name: { type: "string" },
      admin: { type: "string" },
      port: { type: "string" },
      https: { type: "string" },
      yes: { type: "boolean", short: "y", default: false },
      force: { type: "boolean", default: false },
    },
    "[-c FILE] [--name NAME] [--admin USER] [--port PORT] [--https none|self-signed] [--yes] [--force]",
  );
  if (!parsed) return 0;
  const v = parsed.values as Record<string, string | boolean | undefined>;
  const file = v.config as string;
  if (existsSync(file) && !v.force) {
    throw new AtriumError(
      "file-exists",
      `${file} already exists`,
      "pass --force to overwrite it, or -c OTHER.yaml",
    );
  }
  const defaults: InitAnswers = {
    name: (v.name as string | undefined) ?? "atrium",
    admin: (v.admin as string | undefined) ?? "admin1",
    port: (v.port as string | undefined) ?? "8000",
    https: (v.https as string | undefined) ?? "none",
  };
  const interactive = !v.yes && process.stdin.isTTY === true;
  const answers = interactive ? await ask(defaults) : defaults;
  const text = initYaml(answers);
  const loaded = validateText(file, text);
  if (!loaded.config) {
    throw new AtriumError(
      "usage",
      "those answers don't make a valid file",
      "fix the values named above and run init again",
      loaded.problems,
    );
  }
  writeFileSync(file, text, { flag: v.force ? "w" : "wx" });
  process.stdout.write(`wrote ${file}\nnext: atrium plan -c ${file}, then atrium deploy -c ${file}\n`);
  return 0;
}

async function ask(defaults: InitAnswers): Promise<InitAnswers> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const q = async (prompt: string, def: string, check: (s: string) => string | undefined) => {
      for (;;) {
        const answer = (await rl.question(`${prompt} [${def}]: `)).trim() || def;
        const problem = check(answer);
        if (!problem) return answer;
        process.stdout.write(`  ${problem}\n`);
      }
    };
    return {
      name: await q("Project name (lower case, 2-32 chars)", defaults.name, (s) =>
        fieldProblem({ ...defaults, name: s }),
      ),
      admin: await q("First admin's user name", defaults.admin, (s) =>
        fieldProblem({ ...defaults, admin: s }),
      ),
      port: await q("Port to serve on", defaults.port, (s) => fieldProblem({ ...defaults, port: s })),
      https: await q("HTTPS (none, self-signed)", defaults.https, (s) =>
        fieldProblem({ ...defaults, https: s }),
      ),
    };
  } finally {
    rl.close();
  }
}

function fieldProblem(answers: InitAnswers): string | undefined {
  const loaded = validateText("answer", initYaml(answers));
  return loaded.problems.length > 0
    ? formatProblems(loaded.problems).replace(/^answer:\d+:\d+\s+/gm, "")
    : undefined;
}
