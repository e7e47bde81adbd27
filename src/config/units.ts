/**
 * Sizes ("4G", "512Mi") and durations ("30m", "1h") as written in atrium.yaml.
 * Parsing is pure and total: a string either parses or yields undefined, never throws.
 * The patterns here are the ones the schema (and so the JSON Schema) uses: a value
 * is accepted by both or by neither, so "4 G" is not a size anywhere.
 */

export const SIZE_RE = /^\d+(\.\d+)?(K|M|G|T|Ki|Mi|Gi|Ti)?$/;
const SIZE_FACTORS: Record<string, number> = {
  "": 1,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
};

/** Bytes for a size such as `4G`, `512Mi` or a plain integer of bytes; undefined if not a size. */
export function parseSize(value: string | number): number | undefined {
  if (typeof value === "number") return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  const m = SIZE_RE.exec(value);
  if (!m) return undefined;
  const unit = m[2] ?? "";
  const factor = SIZE_FACTORS[unit];
  if (factor === undefined) return undefined;
  return Math.round(Number(value.slice(0, value.length - unit.length)) * factor);
}

const SIZE_ADVICE =
  "use a number with K, M, G, T (powers of 1000) or Ki, Mi, Gi, Ti (powers of 1024), e.g. 4G or 512Mi";

/** A suggestion for a string that is almost a size: "8Gb" -> "8G or 8Gi". */
export function sizeHint(value: string): string {
  const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]+)$/.exec(value.trim());
  const unit = m?.[2]?.[0]?.toUpperCase();
  if (m && unit && "KMGT".includes(unit)) return `use ${m[1]}${unit} or ${m[1]}${unit}i`;
  return SIZE_ADVICE;
}

export const DURATION_RE = /^\d+(s|m|h|d)?$/;
const DURATION_FACTORS: Record<string, number> = { "": 1, s: 1, m: 60, h: 3600, d: 86400 };

/** Seconds for a duration such as `90s`, `30m`, `1h`, `2d` or a plain integer of seconds. */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === "number") return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  const m = DURATION_RE.exec(value);
  if (!m) return undefined;
  const unit = m[1] ?? "";
  const factor = DURATION_FACTORS[unit];
  return factor === undefined ? undefined : Number(value.slice(0, value.length - unit.length)) * factor;
}

/** Seconds in the largest unit that keeps them whole: 5400 -> "90m", 604800 -> "7d". */
export function formatDuration(seconds: number): string {
  for (const [unit, factor] of [
    ["d", 86400],
    ["h", 3600],
    ["m", 60],
  ] as const) {
    if (seconds >= factor && seconds % factor === 0) return `${seconds / factor}${unit}`;
  }
  return `${seconds}s`;
}

const DURATION_WORDS: Record<string, number> = {
  s: 1,
  sec: 1,
  secs: 1,
  second: 1,
  seconds: 1,
  m: 60,
  min: 60,
  mins: 60,
  minute: 60,
  minutes: 60,
  h: 3600,
  hr: 3600,
  hrs: 3600,
  hour: 3600,
  hours: 3600,
  d: 86400,
  day: 86400,
  days: 86400,
  w: 604800,
  week: 604800,
  weeks: 604800,
};

const DURATION_ADVICE = "use a whole number with s, m, h or d, e.g. 90s, 30m, 1h";

/** A suggestion for a string that is almost a duration: "30min" -> "write 30m", "1.5h" -> "write 90m". */
export function durationHint(value: string): string {
  const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(value.trim());
  const factor = m ? DURATION_WORDS[(m[2] ?? "").toLowerCase() || "s"] : undefined;
  if (!m || factor === undefined) return DURATION_ADVICE;
  const seconds = Number(m[1]) * factor;
  return Number.isSafeInteger(seconds) && seconds > 0 ? `write ${formatDuration(seconds)}` : DURATION_ADVICE;
}

function wholeIn(bytes: number, units: ReadonlyArray<readonly [string, number]>): string | undefined {
  for (const [unit, factor] of units) {
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return undefined;
}

/** Human size for docs and messages, in whichever unit system is shorter: 4294967296 -> "4Gi", 2e9 -> "2G". */
export function formatSize(bytes: number): string {
  const binary = wholeIn(bytes, [
    ["Ti", 1024 ** 4],
    ["Gi", 1024 ** 3],
    ["Mi", 1024 ** 2],
    ["Ki", 1024],
  ]);
  const decimal = wholeIn(bytes, [
    ["T", 1e12],
    ["G", 1e9],
    ["M", 1e6],
    ["K", 1e3],
  ]);
  const candidates = [binary, decimal, String(bytes)].filter((c): c is string => c !== undefined);
  return candidates.reduce((best, c) => (c.length < best.length ? c : best));
}
