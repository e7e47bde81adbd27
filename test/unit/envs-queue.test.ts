/** The build queue: order, concurrency limit, timeout, cancel and shutdown. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BuildQueue, type StopReason } from "../../src/services/envs/queue.js";

/** A job that runs until released or stopped, recording what happened. */
function job(log: string[], id: number) {
  let release: () => void = () => {};
  const run = (signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      log.push(`start ${id}`);
      release = () => {
        log.push(`end ${id}`);
        resolve();
      };
      signal.addEventListener("abort", () => {
        log.push(`stop ${id} ${signal.reason as StopReason}`);
        resolve();
      });
    });
  return { run, release: () => release() };
}

const tick = () => new Promise((r) => setImmediate(r));

describe("build queue", () => {
  it("runs at most `concurrency` jobs, first come first served", async () => {
    const log: string[] = [];
    const q = new BuildQueue(2, 60_000);
    const jobs = [1, 2, 3, 4].map((id) => job(log, id));
    for (const [i, j] of jobs.entries()) q.enqueue(i + 1, j.run);
    await tick();
    assert.deepEqual(log, ["start 1", "start 2"]);
    assert.deepEqual(q.running, [1, 2]);
    assert.deepEqual(q.queued, [3, 4]);
    assert.equal(q.position(4), 2);
    jobs[1]?.release();
    await tick();
    await tick();
    assert.deepEqual(log, ["start 1", "start 2", "end 2", "start 3"]);
    jobs[0]?.release();
    jobs[2]?.release();
    await tick();
    await tick();
    jobs[3]?.release();
    await q.idle();
    assert.deepEqual(
      log.filter((l) => l.startsWith("start")),
      ["start 1", "start 2", "start 3", "start 4"],
    );
    assert.deepEqual(q.running, []);
  });

  it("stops a job that takes longer than the timeout, then runs the next", async () => {
    const log: string[] = [];
    const q = new BuildQueue(1, 30);
    const slow = job(log, 1);
    const next = job(log, 2);
    q.enqueue(1, slow.run);
    q.enqueue(2, next.run);
    await new Promise((r) => setTimeout(r, 80));
    assert.deepEqual(log.slice(0, 3), ["start 1", "stop 1 timeout", "start 2"]);
    next.release();
    await q.idle();
  });

  it("cancels a waiting job without running it, and a running one with a signal", async () => {
    const log: string[] = [];
    const q = new BuildQueue(1, 60_000);
    const a = job(log, 1);
    const b = job(log, 2);
    q.enqueue(1, a.run);
    q.enqueue(2, b.run);
    await tick();
    assert.equal(q.cancel(2), true);
    assert.equal(q.cancel(1), true);
    assert.equal(q.cancel(3), false);
    await q.idle();
    assert.deepEqual(log, ["start 1", "stop 1 canceled"]);
  });

  it("ignores a job it already has, and stops everything on shutdown", async () => {
    const log: string[] = [];
    const q = new BuildQueue(1, 60_000);
    const a = job(log, 1);
    q.enqueue(1, a.run);
    q.enqueue(1, a.run);
    q.enqueue(2, job(log, 2).run);
    await tick();
    await q.stopAll();
    assert.deepEqual(log, ["start 1", "stop 1 shutdown"]);
    q.enqueue(3, job(log, 3).run);
    await tick();
    assert.deepEqual(q.queued, []);
  });

  it("keeps going after a job throws", async () => {
    const errors: number[] = [];
    const q = new BuildQueue(1, 60_000, (id) => errors.push(id));
    const log: string[] = [];
    q.enqueue(1, async () => {
      throw new Error("boom");
    });
    const b = job(log, 2);
    q.enqueue(2, b.run);
    await tick();
    await tick();
    b.release();
    await q.idle();
    assert.deepEqual(errors, [1]);
    assert.deepEqual(log, ["start 2", "end 2"]);
  });
});
