/**
 * Sizes ("4G", "512Mi") and durations ("30m", "1h") as written in atrium.yaml.
 * Parsing is pure and total: a string either parses or yields undefined, never throws.
 */

const SIZE_RE = /^(\d+(?:\.\d+)?)\s*(K|M|G|T|Ki|Mi|Gi|Ti)?$/;
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
  if (typeof value === "number") return Number.isInteger(value) && value >= 0 ? value : undefined;
  const m = SIZE_RE.exec(value.trim());
  if (!m) return undefined;
  const factor = SIZE_FACTORS[m[2] ?? ""];
  if (factor === undefined) return undefined;
  return Math.round(Number(m[1]) * factor);
}

/** A suggestion for a string that is almost a size: "8Gb" -> "8G or 8Gi". */
export function sizeHint(value: string): string {
  const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]+)$/.exec(value.trim());
  const unit = m?.[2]?.[0]?.toUpperCase();
  if (m && unit && "KMGT".includes(unit)) return `use ${m[1]}${unit} or ${m[1]}${unit}i`;
  return "use a number with K, M, G, T (powers of 1000) or Ki, Mi, Gi, Ti (powers of 1024), e.g. 4G or 512Mi";
}

const DURATION_RE = /^(\d+)\s*(s|m|h|d)?$/;
const DURATION_FACTORS: Record<string, number> = { "": 1, s: 1, m: 60, h: 3600, d: 86400 };

/** Seconds for a duration such as `90s`, `30m`, `1h`, `2d` or a plain integer of seconds. */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === "number") return Number.isInteger(value) && value >= 0 ? value : undefined;
  const m = DURATION_RE.exec(value.trim());
  if (!m) return undefined;
  const factor = DURATION_FACTORS[m[2] ?? ""];
  return factor === undefined ? undefined : Number(m[1]) * factor;
}

/** Human size for docs and messages: 4294967296 -> "4Gi". */
export function formatSize(bytes: number): string {
  for (const [unit, factor] of [
    ["Ti", 1024 ** 4],
    ["Gi", 1024 ** 3],
    ["Mi", 1024 ** 2],
    ["Ki", 1024],
  ] as const) {
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  for (const [unit, factor] of [
    ["T", 1e12],
    ["G", 1e9],
    ["M", 1e6],
    ["K", 1e3],
  ] as const) {
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return String(bytes);
}
