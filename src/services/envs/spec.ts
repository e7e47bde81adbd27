/**
 * Environment specifications: a conda-style environment.yaml (`name`, `channels`,
 * `dependencies` with `python=3.x` and a `pip:` list) or a plain requirement list
 * (one PEP 508 requirement per line, or a YAML list). Both become the same thing:
 * PEP 508 requirements for uv, plus the Python version asked for.
 *
 * Must stay true: parsing is pure and collects every problem; nothing from a spec
 * reaches uv as an option (lines starting with "-" are refused), so a spec can't
 * point uv at local files or other indexes; conda-only packages are refused with a
 * message saying a conda backend would be needed, never silently dropped.
 */
import { createHash } from "node:crypto";
import { parse as parseYaml } from "yaml";

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

/**
 * Packages that conda users list but that are not Python packages on PyPI (or are a
 * different thing there). A failed resolution catches the rest.
 */
const CONDA_ONLY = new Set([
  "blas",
  "compilers",
  "conda",
  "conda-build",
  "cudatoolkit",
  "cudnn",
  "gcc",
  "gfortran",
  "gxx",
  "libblas",
  "libgcc-ng",
  "libgfortran-ng",
  "liblapack",
  "libstdcxx-ng",
  "mamba",
  "nccl",
  "nodejs",
  "openblas",
  "openjdk",
  "r-base",
  "r-essentials",
]);

const NAME_RE = /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/;
const ENV_KEYS = new Set(["name", "channels", "dependencies", "prefix", "variables"]);
const PYPI_CHANNELS = new Set(["defaults", "conda-forge", "pypi"]);

/** PEP 503 normalized name: lower case, runs of -_. as one -. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

export function condaOnlyProblem(name: string): string | undefined {
  const n = normalizeName(name);
  if (!CONDA_ONLY.has(n) && !n.startsWith("r-")) return undefined;
  return (
    `"${name}" is a conda package that is not on PyPI: it needs a conda backend, which ` +
    "Atrium does not provide yet; leave it out or use a PyPI package instead"
  );
}

function requirementName(req: string): string | undefined {
  const m = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(req);
  return m?.[1];
}

/** Check one PEP 508 requirement line from a spec; undefined when it is acceptable. */
export function requirementProblem(req: string): string | undefined {
  const text = req.trim();
  if (text.startsWith("-")) {
    return `"${text}": options (-r, -e, --index-url, ...) are not allowed in a spec; list packages only`;
  }
  if (/^[./~]/.test(text) || /@\s*file:/i.test(text) || /^file:/i.test(text)) {
    return `"${text}": local paths can't be installed; use packages from PyPI`;
  }
  if (/^(git|hg|svn|bzr)\+/i.test(text) || /@\s*(git|hg|svn|bzr)\+/i.test(text)) {
    return `"${text}": version control URLs need a source build, and environments are built from wheels only`;
  }
  const name = requirementName(text);
  if (!name || !NAME_RE.test(name)) return `"${text}" is not a package requirement (PEP 508)`;
  return condaOnlyProblem(name);
}

/** A conda match spec ("numpy=1.26", "pandas >=2", "scipy 1.11.*") as a PEP 508 requirement. */
export function condaToPep508(dep: string, notes: string[]): { req?: string; problem?: string } {
  const text = dep.trim();
  if (text.includes("::")) {
    return {
      problem: `"${text}" names a conda channel: it needs a conda backend, which Atrium does not provide yet`,
    };
  }
  if (text.includes("[")) {
    return { problem: `"${text}": conda's bracket syntax is not supported; write e.g. "numpy>=1.26"` };
  }
  const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(.*)$/.exec(text);
  if (!m?.[1]) return { problem: `"${text}" is not a package (conda match spec)` };
  const name = m[1];
  // "pandas >= 2, < 3" -> ">=2,<3", so that spaces only separate version and build
  let rest = (m[2] ?? "")
    .trim()
    .replace(/\s*,\s*/g, ",")
    .replace(/([<>=!~]=?)\s+/g, "$1");
  const condaOnly = condaOnlyProblem(name);
  if (condaOnly) return { problem: condaOnly };
  if (rest === "") return { req: name };
  // "name=1.2=build" or "name 1.2 build": a build string is conda's; drop it.
  const parts = rest.startsWith("=") && !rest.startsWith("==") ? rest.slice(1).split("=") : rest.split(/\s+/);
  if (parts.length > 1) {
    notes.push(`build string "${parts.slice(1).join(" ")}" of ${name} ignored (conda-only)`);
  }
  rest = (parts[0] ?? "").trim();
  if (/^[0-9]/.test(rest)) {
    // conda's "=1.26" and "1.26" mean 1.26 or any 1.26.x
    const version = rest.replace(/^=+/, "");
    return { req: `${name}==${version.endsWith("*") ? version : `${version}.*`}` };
  }
  return { req: `${name}${rest}` };
}

/** "python=3.11" and friends as a PEP 440 specifier ("==3.11.*"). */
function pythonSpecifier(dep: string): { spec?: string; problem?: string } {
  const rest = dep.trim().slice("python".length).trim();
  if (rest === "") return {};
  const conda = condaToPep508(`python${rest.startsWith("=") || /^[<>!~]/.test(rest) ? "" : " "}${rest}`, []);
  if (conda.problem || !conda.req) return { problem: conda.problem ?? `"${dep}" is not a Python version` };
  const spec = conda.req.slice("python".length);
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
  for (const item of value) {
    if (typeof item !== "string" || item.trim() === "") {
      problems.push(`${where} has an entry that is not a requirement: ${JSON.stringify(item)}`);
      continue;
    }
    const problem = requirementProblem(item);
    if (problem) problems.push(problem);
    else out.push(item.trim());
  }
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
    for (const dep of deps) {
      if (typeof dep === "string") {
        if (/^python(\s|[=<>!~]|$)/.test(dep.trim())) {
          const p = pythonSpecifier(dep);
          if (p.problem) problems.push(p.problem);
          else python = p.spec;
          continue;
        }
        const r = condaToPep508(dep, notes);
        if (r.problem) problems.push(r.problem);
        else if (r.req) requirements.push(r.req);
      } else if (typeof dep === "object" && dep !== null && !Array.isArray(dep)) {
        for (const [k, v] of Object.entries(dep)) {
          if (k === "pip") requirements.push(...splitPipList(v, problems, "the pip list"));
          else problems.push(`dependencies: unknown entry "${k}:" (only "pip:" holds a list)`);
        }
      } else {
        problems.push(`dependencies has an entry that is not a package: ${JSON.stringify(dep)}`);
      }
    }
  }
  if (problems.length > 0) throw new SpecError(problems);
  return { name, format: "environment.yaml", requirements, python, notes };
}

function parseRequirementLines(lines: string[]): ParsedSpec {
  const problems: string[] = [];
  const requirements: string[] = [];
  const joined = lines.join("\n").replace(/\\\n/g, " ");
  for (const raw of joined.split("\n")) {
    const line = raw.replace(/(^|\s)#.*$/, "").trim();
    if (line === "") continue;
    const problem = requirementProblem(line);
    if (problem) problems.push(problem);
    else requirements.push(line);
  }
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
    const requirements = splitPipList(doc, problems, "the requirement list");
    if (problems.length > 0) throw new SpecError(problems);
    spec = { name: undefined, format: "requirements", requirements, python: undefined, notes: [] };
  } else {
    spec = parseRequirementLines(text.split("\n"));
  }
  const seen = new Map<string, string>();
  for (const r of spec.requirements) {
    const n = normalizeName(requirementName(r) ?? r);
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
  const names = new Set(requirements.map((r) => normalizeName(requirementName(r) ?? r)));
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
