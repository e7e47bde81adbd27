/**
 * The one build queue: first come, first served, at most `concurrency` builds at a
 * time, each stopped after `timeoutMs`. A job gets an AbortSignal whose reason says
 * why it was stopped ("timeout", "canceled" or "shutdown"); it must finish (resolve
 * or reject) soon after, and the queue then starts the next one.
 */
export type StopReason = "timeout" | "canceled" | "shutdown";

export type JobRun = (signal: AbortSignal) => Promise<void>;

interface Running {
  controller: AbortController;
  timer: NodeJS.Timeout;
  done: Promise<void>;
}

export class BuildQueue {
  private readonly waiting: Array<{ id: number; run: JobRun }> = [];
  private readonly active = new Map<number, Running>();
  private stopped = false;

  constructor(
    private readonly concurrency: number,
    private readonly timeoutMs: number,
    private readonly onError: (id: number, err: unknown) => void = () => {},
  ) {}

  enqueue(id: number, run: JobRun): void {
    if (this.stopped || this.has(id)) return;
    this.waiting.push({ id, run });
    this.pump();
  }

  has(id: number): boolean {
    return this.active.has(id) || this.waiting.some((j) => j.id === id);
  }

  /** Ids of the builds running now, oldest first. */
  get running(): number[] {
    return [...this.active.keys()];
  }

  /** Ids waiting for a free slot, in order. */
  get queued(): number[] {
    return this.waiting.map((j) => j.id);
  }

  /** Position in the queue (1 = next), 0 when running, undefined when unknown. */
  position(id: number): number | undefined {
    if (this.active.has(id)) return 0;
    const i = this.waiting.findIndex((j) => j.id === id);
    return i < 0 ? undefined : i + 1;
  }

  /** Drop a waiting build or stop a running one; false when the queue does not have it. */
  cancel(id: number): boolean {
    const i = this.waiting.findIndex((j) => j.id === id);
    if (i >= 0) {
      this.waiting.splice(i, 1);
      return true;
    }
    const r = this.active.get(id);
    if (!r) return false;
    r.controller.abort("canceled" satisfies StopReason);
    return true;
  }

  /** Stop everything (service shutdown) and wait for the running jobs to finish. */
  async stopAll(): Promise<void> {
    this.stopped = true;
    this.waiting.length = 0;
    const running = [...this.active.values()];
    for (const r of running) r.controller.abort("shutdown" satisfies StopReason);
    await Promise.allSettled(running.map((r) => r.done));
  }

  /** Resolves when nothing runs or waits (for tests and benchmarks). */
  async idle(): Promise<void> {
    while (this.active.size > 0 || this.waiting.length > 0) {
      await Promise.allSettled([...this.active.values()].map((r) => r.done));
      await new Promise((r) => setImmediate(r));
    }
  }

  private pump(): void {
    while (!this.stopped && this.active.size < this.concurrency && this.waiting.length > 0) {
      const job = this.waiting.shift();
      if (!job) break;
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort("timeout" satisfies StopReason), this.timeoutMs);
      const done = Promise.resolve()
        .then(() => job.run(controller.signal))
        .catch((err: unknown) => this.onError(job.id, err))
        .finally(() => {
          clearTimeout(timer);
          this.active.delete(job.id);
          this.pump();
        });
      this.active.set(job.id, { controller, timer, done });
    }
  }
}
