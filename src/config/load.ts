/**
 * Loading atrium.yaml: read, parse YAML with positions, migrate, validate with the
 * schema and the rules, and return either the typed Config or every problem found.
 */
import { readFileSync } from "node:fs";
import { AtriumError } from "../errors.js";
import { issuePath, issuesToProblems, valueAt } from "./issues.js";
import { migrate } from "./migrate.js";
import type { ConfigPath, Problem, UnlocatedProblem } from "./problem.js";
import { checkRules } from "./rules.js";
import { CONFIG_VERSION, type Config, configSchema } from "./schema.js";
import { type ConfigSource, locate, parseSource, sourceText } from "./source.js";
import { kind } from "./text.js";

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
    return { file, problems: [place(src, notAMapping(text, data))] };
  }
  // An older file is checked as it will be once upgraded, so every other problem is told too.
  const migrated = migrate(data as Record<string, unknown>);
  const unlocated: UnlocatedProblem[] = migrated.from === undefined ? [] : [olderFormat(file, migrated.from)];
  const current = migrated.data;
  const result = configSchema.safeParse(current);
  const issues = result.success ? [] : result.error.issues;
  unlocated.push(...issuesToProblems(issues, { data: current, written: (path) => sourceText(src, path) }));
  // Values the schema rejected; the rules leave them alone so each mistake is told once.
  const failed = new Set(
    issues
      .filter((i) => i.code !== "unrecognized_keys" && valueAt(current, issuePath(i)) !== undefined)
      .map((i) => JSON.stringify(issuePath(i))),
  );
  unlocated.push(
    ...checkRules(current, {
      lineOf: (path) => locate(src, path).line,
      failed: (path: ConfigPath) => failed.has(JSON.stringify(path)),
    }),
  );
  const problems = sortProblems(dedupe(unlocated.map((p) => place(src, p))));
  return problems.length === 0 && result.success
    ? { file, config: result.data, problems }
    : { file, problems };
}

function olderFormat(file: string, from: number): UnlocatedProblem {
  return {
    path: ["version"],
    message: `version ${from} is an older format of this file`,
    hint: `run \`atrium upgrade -c ${file}\`: it rewrites the file as version ${CONFIG_VERSION}, keeping its comments and layout`,
  };
}

function notAMapping(text: string, data: unknown): UnlocatedProblem {
  const start = "start from `atrium init` or examples/quickstart.yaml";
  const shape = "atrium.yaml is a mapping (project:, users:, ...)";
  if (text.trim() === "") return { path: [], message: "the file is empty", hint: start };
  if (data === null || data === undefined)
    return { path: [], message: "the file holds only comments", hint: start };
  if (Array.isArray(data)) return { path: [], message: "the file is a list", hint: shape };
  return { path: [], message: `the file is only ${kind(data)}`, hint: shape };
}

export function readConfigText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new AtriumError(
        "file-not-found",
        `${file}: no such file`,
        "create one with `atrium init`, or pass -c FILE",
      );
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

/**
 * Problems found after loading (against the cluster, at plan), located in the file as
 * the loader's own are; a key the file leaves to its default points at its nearest parent.
 */
export function locateProblems(file: string, problems: readonly UnlocatedProblem[]): Problem[] {
  const src = parseSource(file, readConfigText(file));
  return problems.map((p) => place(src, p));
}

/** The same problems as one error, like validation's own. */
export function problemsError(file: string, problems: readonly UnlocatedProblem[]): AtriumError {
  const located = sortProblems(locateProblems(file, problems));
  return new AtriumError(
    "config-invalid",
    `${file}: ${located.length} problem${located.length === 1 ? "" : "s"} with this cluster`,
    "fix them and run the command again",
    located,
  );
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
