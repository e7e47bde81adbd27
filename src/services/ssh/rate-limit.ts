/**
 * Slowing down password guessing: after `freeFailures` failed attempts from one
 * source address, every further attempt from it waits before it is answered, twice
 * as long for each further failure, up to `maxDelayMs`. A success clears the
 * source; a source with no failure for `forgetAfterMs` is forgotten. Pure apart
 * from the clock, which tests replace.
 */
export interface RateLimitOptions {
  freeFailures: number;
  baseDelayMs: number;
  maxDelayMs: number;
  forgetAfterMs: number;
}

interface Entry {
  failures: number;
  last: number;
}

export class FailureLimiter {
  private readonly sources = new Map<string, Entry>();

  constructor(
    private readonly opts: RateLimitOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** How long to wait before answering the next attempt from `source`. */
  delayFor(source: string): number {
    const e = this.entry(source);
    if (!e || e.failures < this.opts.freeFailures) return 0;
    const doublings = Math.min(e.failures - this.opts.freeFailures, 30);
    return Math.min(this.opts.baseDelayMs * 2 ** doublings, this.opts.maxDelayMs);
  }

  /** Record a failed attempt; returns the failures counted for the source so far. */
  fail(source: string): number {
    const e = this.entry(source) ?? { failures: 0, last: 0 };
    e.failures += 1;
    e.last = this.now();
    this.sources.set(source, e);
    this.prune();
    return e.failures;
  }

  succeed(source: string): void {
    this.sources.delete(source);
  }

  failures(source: string): number {
    return this.entry(source)?.failures ?? 0;
  }

  private entry(source: string): Entry | undefined {
    const e = this.sources.get(source);
    if (e && this.now() - e.last > this.opts.forgetAfterMs) {
      this.sources.delete(source);
      return undefined;
    }
    return e;
  }

  /** Drop forgotten sources, so an attacker rotating addresses cannot grow the map forever. */
  private prune(): void {
    if (this.sources.size < 1024) return;
    const cutoff = this.now() - this.opts.forgetAfterMs;
    for (const [k, e] of this.sources) if (e.last < cutoff) this.sources.delete(k);
  }
}
