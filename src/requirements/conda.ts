/**
 * conda-style dependencies ("numpy=1.26", "pandas >=2", "scipy 1.11.*") as PEP 508
 * requirements, and the packages conda users list that are not on PyPI. Used by the
 * config rules and the environment service alike.
 *
 * Must stay true: every dependency becomes exactly one requirement that passed
 * parseRequirement, or a problem; conda-only packages are refused with a message
 * saying a conda backend would be needed, never silently dropped. Pure.
 */
import {
  normalizeName,
  type ParsedRequirement,
  parseRequirement,
  quoteEntry,
  type RequirementProblem,
} from "./pep508.js";

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

const CONDA_BACKEND = "it needs a conda backend, which Atrium does not provide yet";

export function condaOnlyProblem(name: string): RequirementProblem | undefined {
  const n = normalizeName(name);
  if (!CONDA_ONLY.has(n) && !n.startsWith("r-")) return undefined;
  return {
    message: `"${name}" is a conda package that is not on PyPI: ${CONDA_BACKEND}`,
    hint: "leave it out or use a PyPI package instead",
  };
}

/** One pip-style entry: one PEP 508 requirement, and not a conda-only package. */
export function parsePipEntry(text: string): ParsedRequirement {
  const parsed = parseRequirement(text);
  if ("problem" in parsed) return parsed;
  const condaOnly = condaOnlyProblem(parsed.requirement.name);
  return condaOnly ? { problem: condaOnly } : parsed;
}

/** A conda match spec as a PEP 508 requirement; build strings are dropped with a note. */
export function parseCondaDependency(dep: string, notes: string[]): ParsedRequirement {
  const text = dep.trim();
  const refused = (message: string, hint: string): ParsedRequirement => ({ problem: { message, hint } });
  // Line breaks and the like are the requirement parser's to refuse, with its message.
  if (/[^\x20-\x7e]/.test(text)) return parsePipEntry(dep);
  if (text.includes("::"))
    return refused(`${quoteEntry(text)} names a conda channel: ${CONDA_BACKEND}`, "use a PyPI package");
  if (text.includes("[")) {
    return refused(
      `${quoteEntry(text)}: conda's bracket syntax is not supported`,
      'write e.g. "numpy>=1.26"',
    );
  }
  const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(.*)$/.exec(text);
  if (!m?.[1]) return parsePipEntry(text);
  const name = m[1];
  const condaOnly = condaOnlyProblem(name);
  if (condaOnly) return { problem: condaOnly };
  // "pandas >= 2, < 3" -> ">=2,<3", so that spaces only separate version and build
  let rest = (m[2] ?? "")
    .trim()
    .replace(/\s*,\s*/g, ",")
    .replace(/([<>=!~]=?)\s+/g, "$1");
  if (rest !== "") {
    // "name=1.2=build" or "name 1.2 build": a build string is conda's; drop it.
    const parts =
      rest.startsWith("=") && !rest.startsWith("==") ? rest.slice(1).split("=") : rest.split(/\s+/);
    if (parts.length > 1)
      notes.push(`build string "${parts.slice(1).join(" ")}" of ${name} ignored (conda-only)`);
    rest = (parts[0] ?? "").trim();
    // conda's "=1.26" and "1.26" mean 1.26 or any 1.26.x
    if (/^[0-9]/.test(rest)) {
      const version = rest.replace(/^=+/, "");
      rest = `==${version.endsWith("*") ? version : `${version}.*`}`;
    }
  }
  const parsed = parseRequirement(`${name}${rest}`);
  if ("problem" in parsed) {
    return refused(
      `${quoteEntry(text)} is not a package with a version (conda match spec)`,
      'write e.g. numpy, numpy=1.26 or "pandas >=2,<3"',
    );
  }
  return parsed;
}
