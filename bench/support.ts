/**
 * What the benchmarks share: a throwaway platform (the end-to-end harness's),
 * cleaned up when the benchmark ends or fails, and simple statistics.
 */
import { type ConfigObject, makePlatform, type Naming, type Platform } from "../test/e2e/harness.js";

export async function withPlatform<T>(
  config: (n: Naming) => ConfigObject,
  body: (p: Platform) => Promise<T>,
  options: { seedUvCache?: boolean } = {},
): Promise<T> {
  const cleanups: Array<() => unknown> = [];
  try {
    const p = await makePlatform({ after: (fn) => cleanups.push(fn) }, { config, ...options });
    return await body(p);
  } finally {
    for (const fn of cleanups.reverse()) await fn();
  }
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? 0;
}

export const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
