/**
 * One PEP 508 requirement, parsed: `name[extras] version-set ; marker`. Used by the
 * config rules (environments[].dependencies and pip) and by the environment service
 * (every entry of every submitted spec), so both accept and refuse the same things.
 *
 * Must stay true: an entry is exactly one requirement or a problem. Nothing that
 * passes can reach uv as anything but one requirement: no options (`-r`, `-e`,
 * `--find-links`, ...), no paths or URLs (direct references `name @ URL` are
 * refused: environments come from the package index), no line breaks or other
 * control characters, and the text handed on is re-written from the parsed parts
 * (formatRequirement), never the text as given. Marker strings are held to a small
 * character set, so that no requirements-file reader finds a comment, a variable or
 * an option inside one. Pure.
 */

export interface VersionClause {
  op: string;
  version: string;
}

export interface Requirement {
  name: string;
  extras: string[];
  versions: VersionClause[];
  /** The marker, re-written (double-quoted strings, single spaces), or undefined. */
  marker: string | undefined;
}

export interface RequirementProblem {
  message: string;
  hint: string;
}

export type ParsedRequirement = { requirement: Requirement } | { problem: RequirementProblem };

const EXAMPLE = `write one package per entry, e.g. pandas>=2,<3 or requests[socks]==2.32.*; python_version >= "3.10"`;

const IDENTIFIER = /[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?/y;
const VERSION_OP = /===|==|!=|<=|>=|~=|<|>/y;
const VERSION_TEXT = /[A-Za-z0-9_.*+!-]+/y;
const MARKER_OP = /===|==|!=|<=|>=|~=|<|>|not[ \t]+in\b|in\b/y;
const MARKER_VARIABLE =
  /(?:python_full_version|python_version|os_name|sys_platform|platform_release|platform_system|platform_version|platform_machine|platform_python_implementation|implementation_name|implementation_version|extra)\b/y;
/** What a quoted marker value may hold: enough for versions, platforms and extras. */
const MARKER_STRING_CHAR = /^[A-Za-z0-9._*+!~,:/-]*$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

const RELEASE = String.raw`(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*`;
const PRE_POST_DEV =
  "(?:[-_.]?(?:a|b|c|rc|alpha|beta|pre|preview)[-_.]?[0-9]*)?(?:-[0-9]+|[-_.]?(?:post|rev|r)[-_.]?[0-9]*)?(?:[-_.]?dev[-_.]?[0-9]*)?";
const LOCAL = String.raw`(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?`;
const PEP440 = new RegExp(`^v?${RELEASE}${PRE_POST_DEV}${LOCAL}$`, "i");
const PEP440_NO_LOCAL = new RegExp(`^v?${RELEASE}${PRE_POST_DEV}$`, "i");
const PEP440_PREFIX = new RegExp(`^v?${RELEASE}\\.\\*$`, "i");

/** A value for messages: JSON-quoted (line breaks show as \n), shortened when long. */
export function quoteEntry(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text);
}

class Syntax extends Error {}

class Cursor {
  pos = 0;
  constructor(readonly text: string) {}

  space(): void {
    while (this.text[this.pos] === " " || this.text[this.pos] === "\t") this.pos++;
  }

  match(re: RegExp): string | undefined {
    re.lastIndex = this.pos;
    const m = re.exec(this.text);
    if (!m) return undefined;
    this.pos += m[0].length;
    return m[0];
  }

  take(ch: string): boolean {
    if (this.text[this.pos] !== ch) return false;
    this.pos++;
    return true;
  }

  get done(): boolean {
    return this.pos >= this.text.length;
  }

  fail(expected: string): never {
    const at = this.done ? "the end" : `${quoteEntry(this.text.slice(this.pos, this.pos + 12))}`;
    throw new Syntax(`expected ${expected} at column ${this.pos + 1}, found ${at}`);
  }
}

function versionProblem(op: string, version: string): string | undefined {
  if (op === "===") return undefined;
  if (version.endsWith(".*")) {
    return op === "==" || op === "!="
      ? PEP440_PREFIX.test(version)
        ? undefined
        : `"${version}" is not a version prefix`
      : `a trailing .* is allowed only with == and !=`;
  }
  const ok = op === "==" || op === "!=" ? PEP440.test(version) : PEP440_NO_LOCAL.test(version);
  if (!ok) return `"${version}" is not a version (PEP 440) for ${op}`;
  if (op === "~=" && !/^v?(?:[0-9]+!)?[0-9]+\.[0-9]+/i.test(version))
    return `~= needs at least two parts, e.g. ~=${version}.0`;
  return undefined;
}

function parseVersions(c: Cursor): VersionClause[] {
  const out: VersionClause[] = [];
  const parens = c.take("(");
  for (;;) {
    c.space();
    const op = c.match(VERSION_OP);
    if (!op) {
      if (out.length === 0 && !parens) return out;
      c.fail("a version comparison (==, >=, <, ~=, ...)");
    }
    c.space();
    const version = c.match(VERSION_TEXT) ?? c.fail("a version");
    const bad = versionProblem(op, version);
    if (bad) throw new Syntax(bad);
    out.push({ op, version });
    c.space();
    if (!c.take(",")) break;
  }
  if (parens && !c.take(")")) c.fail('")"');
  return out;
}

function markerValue(c: Cursor): string {
  c.space();
  const variable = c.match(MARKER_VARIABLE);
  if (variable) return variable;
  const quote = c.text[c.pos];
  if (quote !== "'" && quote !== '"')
    c.fail("a marker variable (python_version, sys_platform, ...) or a quoted string");
  const end = c.text.indexOf(quote, c.pos + 1);
  if (end < 0) c.fail(`a closing ${quote}`);
  const value = c.text.slice(c.pos + 1, end);
  if (!MARKER_STRING_CHAR.test(value)) {
    throw new Syntax(
      `the marker string ${quoteEntry(value)} may hold only letters, digits and . _ * + ! ~ , : / -`,
    );
  }
  c.pos = end + 1;
  return `"${value}"`;
}

function markerExpression(c: Cursor): string {
  c.space();
  if (c.take("(")) {
    const inner = markerOr(c);
    c.space();
    if (!c.take(")")) c.fail('")"');
    return `(${inner})`;
  }
  const left = markerValue(c);
  c.space();
  const op = c.match(MARKER_OP) ?? c.fail("a marker comparison (==, <, in, not in, ...)");
  const right = markerValue(c);
  return `${left} ${op.replace(/[ \t]+/, " ")} ${right}`;
}

function markerJoin(c: Cursor, word: string, part: (c: Cursor) => string): string {
  const parts = [part(c)];
  for (;;) {
    const save = c.pos;
    c.space();
    if (c.match(new RegExp(`${word}\\b`, "y"))) parts.push(part(c));
    else {
      c.pos = save;
      return parts.join(` ${word} `);
    }
  }
}

function markerOr(c: Cursor): string {
  return markerJoin(c, "or", (x) => markerJoin(x, "and", markerExpression));
}

/** Why `text` is refused before its grammar is looked at, if it is. */
function shapeProblem(text: string): RequirementProblem | undefined {
  const shown = quoteEntry(text);
  if (CONTROL.test(text)) {
    return {
      message: `${shown} is not one requirement: it holds a line break or another control character`,
      hint: "give each package its own entry",
    };
  }
  const t = text.trim();
  if (t.startsWith("-")) {
    return {
      message: `${shown} is not one requirement: options (-r, -c, -e, -f, --index-url, ...) are not allowed`,
      hint: "list packages only; packages come from the package index",
    };
  }
  if (/^(?:[./~]|file:)/i.test(t)) {
    return {
      message: `${shown} is a local path: local files can't be installed`,
      hint: "use packages from the package index (PyPI)",
    };
  }
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(t) || /^(?:git|hg|svn|bzr)\+/i.test(t)) {
    return {
      message: `${shown} is a URL: environments install packages from the package index only`,
      hint: "name the package and its version instead, e.g. pkg==1.2",
    };
  }
  return undefined;
}

/** Parse one requirement; a problem says what is wrong and how to write it. */
export function parseRequirement(text: string): ParsedRequirement {
  const shape = shapeProblem(text);
  if (shape) return { problem: shape };
  const c = new Cursor(text);
  try {
    c.space();
    const name = c.match(IDENTIFIER) ?? c.fail("a package name");
    c.space();
    const extras: string[] = [];
    if (c.take("[")) {
      c.space();
      if (!c.take("]")) {
        for (;;) {
          c.space();
          extras.push(c.match(IDENTIFIER) ?? c.fail("an extra's name"));
          c.space();
          if (c.take("]")) break;
          if (!c.take(",")) c.fail('"," or "]"');
        }
      }
      c.space();
    }
    if (c.text[c.pos] === "@") {
      return {
        problem: {
          message: `${quoteEntry(text)} is a direct URL reference (name @ URL): environments install packages from the package index only`,
          hint: `name a version instead, e.g. ${name}==1.2`,
        },
      };
    }
    const versions = parseVersions(c);
    c.space();
    let marker: string | undefined;
    if (c.take(";")) {
      marker = markerOr(c);
      c.space();
    }
    if (!c.done) c.fail(marker === undefined ? 'a version, ";" and a marker, or the end' : "the end");
    return { requirement: { name, extras, versions, marker } };
  } catch (err) {
    if (!(err instanceof Syntax)) throw err;
    return {
      problem: {
        message: `${quoteEntry(text)} is not a requirement (PEP 508): ${err.message}`,
        hint: EXAMPLE,
      },
    };
  }
}

/** The one-line text of a parsed requirement that uv is given. */
export function formatRequirement(r: Requirement): string {
  const extras = r.extras.length > 0 ? `[${r.extras.join(",")}]` : "";
  const versions = r.versions.map((v) => `${v.op}${v.version}`).join(",");
  return `${r.name}${extras}${versions}${r.marker === undefined ? "" : `; ${r.marker}`}`;
}

/** PEP 503 normalized name: lower case, runs of -_. as one -. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

/** Whether `name` is written like a package name (PEP 508). */
export function isPackageName(name: string): boolean {
  return /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/.test(name);
}
