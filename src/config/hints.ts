/**
 * Suggested fixes for values the schema rejected. A hint that proposes a value
 * ("try ...", "write ...") only does so after checking the value against the
 * field's own schema: a suggestion that would fail again is worse than none.
 */
import type { ConfigPath, UnlocatedProblem } from "./problem.js";
import { configSchema } from "./schema.js";
import { defOf, fitsAt, messageAt, objectsOf, schemasAt } from "./schema-keys.js";
import { quote } from "./text.js";

export const SECRET_HINT =
  "write client_secret_env: OIDC_CLIENT_SECRET and export OIDC_CLIENT_SECRET=... before deploy";

const ENV_NAME_RE = /^[A-Z_][A-Z0-9_]*$/;

/** Likely rewrites of a name that broke a naming rule, most faithful first. */
function nameCandidates(value: string): string[] {
  const lower = value.trim().toLowerCase();
  const trim = (s: string, sep: string) => s.replace(new RegExp(`^[${sep}]+|[${sep}]+$`, "g"), "");
  return [
    lower,
    trim(lower.replace(/[^a-z0-9_-]+/g, "-"), "-"),
    trim(lower.replace(/[^a-z0-9]+/g, "-"), "-"),
    trim(lower.replace(/[^a-z0-9]+/g, "_"), "_"),
  ];
}

/** `try "data-team"` when a cleaned-up spelling of the value passes the field's rule. */
export function nameHint(path: ConfigPath, value: string, data: unknown): string | undefined {
  const fix = nameCandidates(value).find(
    (c) => c !== value && c !== "" && fitsAt(configSchema, path, c, data),
  );
  return fix === undefined ? undefined : `try "${fix}"`;
}

/** A value that reads like a pasted credential rather than a variable's name. */
export function looksLikeSecret(value: string): boolean {
  const s = value.trim();
  let digitSwitches = 0;
  let caseSwitches = 0;
  for (let i = 1; i < s.length; i++) {
    const a = s[i - 1] ?? "";
    const b = s[i] ?? "";
    if ((/\d/.test(a) && /[a-z]/i.test(b)) || (/[a-z]/i.test(a) && /\d/.test(b))) digitSwitches++;
    if (/[a-z]/.test(a) && /[A-Z]/.test(b)) caseSwitches++;
  }
  const symbols = /[^A-Za-z0-9_.${}\s-]/.test(s);
  return (
    digitSwitches >= 3 || (caseSwitches >= 3 && /\d/.test(s)) || (symbols && s.length >= 12) || s.length >= 40
  );
}

/** Problems with client_secret_env; a value that may be the secret itself is never repeated. */
export function envNameProblem(path: ConfigPath, value: unknown): UnlocatedProblem {
  if (typeof value !== "string" || looksLikeSecret(value)) {
    return {
      path,
      message:
        "this looks like a secret, not an environment variable name; the secret must not be in the file",
      hint: SECRET_HINT,
    };
  }
  const bare = /^\$\{?([^}]*)\}?$/.exec(value.trim())?.[1];
  if (bare !== undefined && ENV_NAME_RE.test(bare)) {
    return {
      path,
      message: `${quote(value)} is the variable's value in a shell, not its name`,
      hint: `write ${bare}, without $`,
    };
  }
  const upper = value
    .trim()
    .replace(/^\$\{?|\}$/g, "")
    .toUpperCase()
    .replace(/[^A-Z0-9_]+/g, "_");
  const problem: UnlocatedProblem = {
    path,
    message: `${quote(value)} is not an environment variable name: upper case letters, digits and _`,
  };
  if (ENV_NAME_RE.test(upper)) problem.hint = `try "${upper}"`;
  return problem;
}

/** "https://meet.jit.si/" -> `drop https:// and the trailing /: meet.jit.si`. */
export function hostHint(path: ConfigPath, value: string, data: unknown): string | undefined {
  let host = value.trim();
  const dropped: string[] = [];
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(host)?.[0];
  if (scheme) {
    dropped.push(scheme);
    host = host.slice(scheme.length);
  }
  const slash = host.indexOf("/");
  if (slash >= 0) {
    const rest = host.slice(slash);
    dropped.push(rest === "/" ? "the trailing /" : `the path ${rest}`);
    host = host.slice(0, slash);
  }
  if (dropped.length === 0 || !fitsAt(configSchema, path, host, data)) return undefined;
  return `drop ${dropped.join(" and ")}: ${host}`;
}

/**
 * For a number or true/false where text is expected: quoting the value as it was
 * written (3.10, not 3.1) when that passes; otherwise what the rule wants.
 */
export function quoteHint(path: ConfigPath, written: string, data: unknown): string {
  if (fitsAt(configSchema, path, written, data)) return `write "${written}" in quotes`;
  const rule = messageAt(configSchema, path, written);
  return rule ? `write text in quotes; ${rule}` : "write the value in quotes";
}

/** `write https: {mode: self-signed}` for a bare value given where a section was expected. */
export function sectionHint(path: ConfigPath, value: unknown, data: unknown): string | undefined {
  const last = path[path.length - 1];
  if (typeof value === "string" && typeof last === "number") {
    const objects = schemasAt(configSchema, path, data).flatMap((s) => objectsOf(s));
    if (objects.some((o) => defOf(o).shape?.name !== undefined)) return `write - name: ${value}`;
  }
  if (typeof last !== "string" || (typeof value !== "string" && typeof value !== "boolean")) return undefined;
  for (const s of schemasAt(configSchema, path, data)) {
    for (const o of objectsOf(s)) {
      for (const key of ["type", "mode", "enabled"]) {
        const field = defOf(o).shape?.[key];
        if (field?.safeParse(value).success) return `write ${last}: {${key}: ${String(value)}}`;
      }
    }
  }
  if (typeof value === "string") {
    // "name team": a key and its value without the colon between them.
    const m = /^([A-Za-z_][\w-]*)\s+(.+)$/.exec(value);
    const key = m?.[1];
    const objects = schemasAt(configSchema, path, data).flatMap((s) => objectsOf(s));
    if (m && key !== undefined && objects.some((o) => defOf(o).shape?.[key] !== undefined)) {
      return `put a colon after the key: ${m[1]}: ${m[2]}`;
    }
  }
  return undefined;
}
