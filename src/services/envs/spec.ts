/**
 * Environment specifications: a conda-style environment.yaml (`name`, `channels`,
 * `dependencies` with `python=3.x` and a `pip:` list) or a plain requirement list
 * (one PEP 508 requirement per line, or a YAML list). Both become the same thing:
 * PEP 508 requirements for uv, plus the Python version asked for.
 *
 * Must stay true: parsing is pure and collects every problem, each naming its entry
 * (`dependencies[3].pip[0]`, `requirements[2]`, `line 4`); every entry is exactly one
 * PEP 508 requirement (src/requirements/), handed on as re-written from its parsed
 * parts, so nothing from a spec reaches uv as an option, a file or a URL; conda-only
 * packages are refused with a message saying a conda backend would be needed, never
 * silently dropped.
 */
import { createHash } from "node:crypto";
import { parse as parseYaml } from "yaml";
import { parseCondaDependency, parsePipEntry } from "../../requirements/conda.js";
import {
  formatRequirement,
  normalizeName,
  type ParsedRequirement,
  type RequirementProblem,
} from "../../requirements/pep508.js";

export interface ParsedSpec {
  name: string | undefined;
  format: "environment.yaml" | "requirements";
  requirements: string[];
  /** The Python asked for, as a PEP 440 specifier ("==3.11.*"), or undefined for any. */
  python: string | undefined;
  /** Things the person should know that did not stop the build (ignored channels, ...). */
  notes: string[];
}

export class SpecError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("; "));
    this.name = "SpecError";
  }
}

const ENV_KEYS = new Set(["name", "channels", "dependencies", "prefix", "variables"]);
const PYPI_CHANNELS = new Set(["defaults", "conda-forge", "pypi"]);

/** The name of a requirement as re-written by formatRequirement. */
function requirementName(req: string): string {
  return /^[A-Za-z0-9._-]+/.exec(req)?.[0] ?? req;
}

/** "where: message; hint", as the service answers it. */
function located(where: string, problem: RequirementProblem): string {
  return `${where}: ${problem.message}; ${problem.hint}`;
}

/** Add one entry's requirement (re-written from its parsed parts) or its problem. */
function collect(parsed: ParsedRequirement, where: string, out: string[], problems: string[]): void {
  if ("problem" in parsed) problems.push(located(where, parsed.problem));
  else out.push(formatRequirement(parsed.requirement));
}

/** "python=3.11" and friends as a PEP 440 specifier ("==3.11.*"). */
function pythonSpecifier(dep: string): { spec?: string; problem?: string } {
  const rest = dep.trim().slice("python".length).trim();
  if (rest === "") return {};
  const conda = parseCondaDependency(
    `python${rest.startsWith("=") || /^[<>!~]/.test(rest) ? "" : " "}${rest}`,
    [],
  );
  if ("problem" in conda) return { problem: `${conda.problem.message}; ${conda.problem.hint}` };
  const spec = formatRequirement(conda.requirement).slice("python".length);
  if (!/^(\s*(==|!=|>=|<=|~=|>|<)\s*\d+(\.\d+)*(\.\*)?\s*,?)+$/.test(spec)) {
    return {
      problem: `"${dep}" is not a Python version constraint Atrium understands; write e.g. python=3.11`,
    };
  }
  return { spec };
}

function splitPipList(value: unknown, problems: string[], where: string): string[] {
  if (!Array.isArray(value)) {
    problems.push(`${where} must be a list of requirements`);
    return [];
  }
  const out: string[] = [];
  value.forEach((item, i) => {
    if (typeof item !== "string" || item.trim() === "") {
      problems.push(`${where}[${i}]: ${JSON.stringify(item)} is not a requirement`);
      return;
    }
    collect(parsePipEntry(item), `${where}[${i}]`, out, problems);
  });
  return out;
}

function parseEnvironmentYaml(doc: Record<string, unknown>): ParsedSpec {
  const problems: string[] = [];
  const notes: string[] = [];
  for (const key of Object.keys(doc)) {
    if (!ENV_KEYS.has(key))
      problems.push(`unknown key "${key}" (environment.yaml has name, channels, dependencies)`);
  }
  const name = doc.name === undefined || doc.name === null ? undefined : String(doc.name);
  if (doc.prefix !== undefined) notes.push("prefix ignored: Atrium decides where environments live");
  if (doc.variables !== undefined) notes.push("variables ignored: not supported yet");
  if (Array.isArray(doc.channels)) {
    const others = doc.channels.map(String).filter((c) => !PYPI_CHANNELS.has(c));
    if (others.length > 0) notes.push(`channels ${others.join(", ")} ignored: packages come from PyPI`);
  } else if (doc.channels !== undefined && doc.channels !== null) {
    problems.push("channels must be a list");
  }
  const deps = doc.dependencies;
  const requirements: string[] = [];
  let python: string | undefined;
  if (!Array.isArray(deps)) {
    problems.push("dependencies must be a list");
  } else {
    deps.forEach((dep: unknown, i) => {
      const where = `dependencies[${i}]`;
      if (typeof dep === "string") {
        if (/^python(\s|[=<>!~]|$)/.test(dep.trim())) {
          const p = pythonSpecifier(dep);
          if (p.problem) problems.push(`${where}: ${p.problem}`);
          else python = p.spec;
          return;
        }
        collect(parseCondaDependency(dep, notes), where, requirements, problems);
      } else if (typeof dep === "object" && dep !== null && !Array.isArray(dep)) {
        for (const [k, v] of Object.entries(dep)) {
          if (k === "pip") requirements.push(...splitPipList(v, problems, `${where}.pip`));
          else problems.push(`${where}: unknown entry "${k}:" (only "pip:" holds a list)`);
        }
      } else {
        problems.push(`${where}: ${JSON.stringify(dep)} is not a package`);
      }
    });
  }
  if (problems.length > 0) throw new SpecError(problems);
  return { name, format: "environment.yaml", requirements, python, notes };
}

function parseRequirementLines(text: string): ParsedSpec {
  const problems: string[] = [];
  const requirements: string[] = [];
  text.split("\n").forEach((raw, i) => {
    // A comment starts at "#" at the start of a line or after white space, as in requirements files.
    const line = raw
      .replace(/(^|[ \t])#.*$/, "")
      .replace(/\r$/, "")
      .trim();
    if (line !== "") collect(parsePipEntry(line), `line ${i + 1}`, requirements, problems);
  });
  if (requirements.length === 0 && problems.length === 0)
    problems.push("the specification lists no packages");
  if (problems.length > 0) throw new SpecError(problems);
  return { name: undefined, format: "requirements", requirements, python: undefined, notes: [] };
}

/** Parse a submitted spec; throws SpecError listing every problem. */
export function parseSpecification(text: string): ParsedSpec {
  if (text.trim() === "") throw new SpecError(["the specification is empty"]);
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch {
    doc = undefined;
  }
  let spec: ParsedSpec;
  if (typeof doc === "object" && doc !== null && !Array.isArray(doc)) {
    spec = parseEnvironmentYaml(doc as Record<string, unknown>);
  } else if (Array.isArray(doc)) {
    const problems: string[] = [];
    const requirements = splitPipList(doc, problems, "requirements");
    if (problems.length > 0) throw new SpecError(problems);
    spec = { name: undefined, format: "requirements", requirements, python: undefined, notes: [] };
  } else {
    spec = parseRequirementLines(text);
  }
  const seen = new Map<string, string>();
  for (const r of spec.requirements) {
    const n = normalizeName(requirementName(r));
    const first = seen.get(n);
    if (first !== undefined && first !== r)
      spec.notes.push(`${n} is listed twice ("${first}", "${r}"): both apply`);
    seen.set(n, r);
  }
  return spec;
}

function versionParts(v: string): number[] {
  return v.split(".").map((x) => Number.parseInt(x, 10) || 0);
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Whether `version` (e.g. "3.11.2") satisfies a PEP 440 specifier set such as ">=3.10,<3.13". */
export function satisfies(version: string, specifier: string): boolean {
  const v = versionParts(version);
  return specifier
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .every((clause) => {
      const m = /^(==|!=|>=|<=|~=|>|<)\s*([\d.]+)(\.\*)?$/.exec(clause);
      if (!m) return false;
      const [, op, raw = "", star] = m;
      const want = versionParts(raw);
      const prefixEq = compare(v.slice(0, want.length), want) === 0;
      switch (op) {
        case "==":
          return star ? prefixEq : compare(v, want) === 0;
        case "!=":
          return star ? !prefixEq : compare(v, want) !== 0;
        case ">=":
          return compare(v, want) >= 0;
        case "<=":
          return compare(v, want) <= 0;
        case ">":
          return compare(v, want) > 0;
        case "<":
          return compare(v, want) < 0;
        default: // ~=
          return compare(v, want) >= 0 && compare(v.slice(0, want.length - 1), want.slice(0, -1)) === 0;
      }
    });
}

/** The problem when the spec asks for a Python other than the system's, else undefined. */
export function pythonProblem(
  spec: ParsedSpec,
  systemVersion: string,
  interpreter: string,
): string | undefined {
  if (spec.python === undefined || satisfies(systemVersion, spec.python)) return undefined;
  const [major, minor] = versionParts(systemVersion);
  return (
    `python${spec.python} is not available: environments are built on the system Python ` +
    `${systemVersion} (${interpreter}); ask for python=${major}.${minor} or leave python out ` +
    "(other Python versions need a conda backend, which Atrium does not provide yet)"
  );
}

/**
 * What uv resolves: the spec's requirements plus ipykernel (every environment is a
 * kernel) and distributed (every environment can run Dask workers), with dask and
 * distributed held to the platform's versions so workers match the scheduler.
 */
export function withPlatformPackages(
  requirements: readonly string[],
  platformPins: Readonly<Record<string, string>>,
): { requirements: string[]; constraints: string[] } {
  const names = new Set(requirements.map((r) => normalizeName(requirementName(r))));
  const out = [...requirements];
  for (const extra of ["ipykernel", "distributed"]) if (!names.has(extra)) out.push(extra);
  const constraints = Object.entries(platformPins)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([n, v]) => `${n}==${v}`);
  return { requirements: out, constraints };
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
