/**
 * Slowing down password guessing. FailureLimiter counts failures per key: after
 * `freeFailures` of them, every further attempt on that key waits before it is
 * answered, twice as long for each further failure, up to `maxDelayMs`; a key with
 * no failure for `forgetAfterMs` is forgotten. LoginThrottle keys it two ways: per
 * (address, account), and per account over all addresses (with more free failures),
 * so guesses at one account slow down only attempts at that account, and a correct
 * login at another account never waits for them. A success clears only its own
 * (address, account) pair: logging in as yourself does not wipe the record of your
 * guesses at someone else. Pure apart from the clock, which tests replace.
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

/** An account guessed at from many addresses slows down after this many times the free failures. */
const ACCOUNT_FREE_FACTOR = 4;

export class LoginThrottle {
  private readonly pairs: FailureLimiter;
  private readonly accounts: FailureLimiter;

  constructor(opts: RateLimitOptions, now: () => number = Date.now) {
    this.pairs = new FailureLimiter(opts, now);
    this.accounts = new FailureLimiter(
      { ...opts, freeFailures: opts.freeFailures * ACCOUNT_FREE_FACTOR },
      now,
    );
  }

  /** How long to wait before checking the next attempt from `source` at `account`. */
  delayFor(source: string, account: string): number {
    return Math.max(this.pairs.delayFor(pairKey(source, account)), this.accounts.delayFor(account));
  }

  /** Record a failed attempt; returns the failures counted for this address and account. */
  fail(source: string, account: string): number {
    this.accounts.fail(account);
    return this.pairs.fail(pairKey(source, account));
  }

  succeed(source: string, account: string): void {
    this.pairs.succeed(pairKey(source, account));
  }
}

function pairKey(source: string, account: string): string {
  return `${source}\0${account}`;
}
