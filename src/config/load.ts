/**
 * Loading atrium.yaml: read, parse YAML with positions, migrate, validate with the
 * schema and the rules, and return either the typed Config or every problem found.
 */
import { readFileSync } from "node:fs";
import { AtriumError } from "../errors.js";
import { issueToProblems } from "./issues.js";
import { migrate } from "./migrate.js";
import type { Problem, UnlocatedProblem } from "./problem.js";
import { checkRules } from "./rules.js";
import { type Config, configSchema } from "./schema.js";
import { type ConfigSource, locate, parseSource } from "./source.js";

export interface Loaded {
  file: string;
  config?: Config;
  problems: Problem[];
}

/** Validate YAML text; never throws for bad input. */
export function validateText(file: string, text: string): Loaded {
  const src = parseSource(file, text);
  if (src.syntaxProblems.length > 0) return { file, problems: sortProblems(src.syntaxProblems) };
  const data = src.data;
  if (data === null || data === undefined || typeof data !== "object" || Array.isArray(data)) {
    return {
      file,
      problems: [
        {
          file,
          line: 1,
          col: 1,
          path: [],
          message: "the file is not a mapping of keys to values",
          hint: "start from `atrium init` or examples/quickstart.yaml",
        },
      ],
    };
  }
  const migrated = migrate(data as Record<string, unknown>);
  const unlocated: UnlocatedProblem[] = [...migrated.problems];
  const result = configSchema.safeParse(migrated.data);
  if (!result.success) for (const issue of result.error.issues) unlocated.push(...issueToProblems(issue, data));
  const lineOf = (path: readonly (string | number)[]) => locate(src, path).line;
  unlocated.push(...checkRules(data, lineOf, result.success && unlocated.length === 0 ? result.data : undefined));
  const problems = sortProblems(dedupe(unlocated.map((p) => place(src, p))));
  return problems.length === 0 && result.success ? { file, config: result.data, problems } : { file, problems };
}

export function readConfigText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new AtriumError("file-not-found", `${file}: no such file`, "create one with `atrium init`, or pass -c FILE");
    }
    if (code === "EISDIR") throw new AtriumError("usage", `${file} is a folder, not a config file`);
    throw new AtriumError("file-not-found", `${file}: can't be read (${code ?? "error"})`);
  }
}

/** Load a valid config or throw an AtriumError carrying every problem. */
export function loadConfig(file: string): Config {
  const loaded = validateText(file, readConfigText(file));
  if (!loaded.config) {
    throw new AtriumError(
      "config-invalid",
      `${file} has ${loaded.problems.length} problem${loaded.problems.length === 1 ? "" : "s"}`,
      "fix them and run `atrium validate` again",
      loaded.problems,
    );
  }
  return loaded.config;
}

function place(src: ConfigSource, p: UnlocatedProblem): Problem {
  const { line, col } = locate(src, p.path, p.atKey);
  const out: Problem = { file: src.file, line, col, path: p.path, message: p.message };
  if (p.hint !== undefined) out.hint = p.hint;
  return out;
}

function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.line}:${p.col}:${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function sortProblems(problems: Problem[]): Problem[] {
  return [...problems].sort((a, b) => a.line - b.line || a.col - b.col);
}
