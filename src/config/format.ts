/** Printing problems: the one place that decides how a problem looks. */
import { formatPath, type Problem } from "./problem.js";

/** `FILE:LINE:COL  key.path  message; hint` — one line each. */
export function formatProblem(p: Problem): string {
  const hint = p.hint ? `; ${p.hint}` : "";
  return `${p.file}:${p.line}:${p.col}  ${formatPath(p.path)}  ${p.message}${hint}`;
}

export function formatProblems(problems: readonly Problem[]): string {
  return problems.map(formatProblem).join("\n");
}

export function problemsAsJson(problems: readonly Problem[]): string {
  return `${JSON.stringify(
    problems.map((p) => ({ ...p, path: formatPath(p.path) })),
    null,
    2,
  )}\n`;
}
