/**
 * The test command's tally (scripts/test-lib.sh, test-reporter.mjs, tally.mjs),
 * run for real on small fixture suites: whatever did not pass is counted as
 * failed in the closing line and the exit code, and skips need a reason.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const REPO = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) dir = dirname(dir);
  return dir;
})();
const FIXTURES = join(REPO, "test", "fixtures", "runner");

interface Run {
  code: number | null;
  out: string;
  closing: string;
}

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Runs the test command's functions in bash: `body` after sourcing the library, then `finish`. */
function withLibrary(body: string): Run {
  const logDir = mkdtempSync(join(tmpdir(), "atrium-tally-"));
  dirs.push(logDir);
  const script = `set -uo pipefail; LOG_DIR=${JSON.stringify(logDir)}; source scripts/test-lib.sh >/dev/null; ${body}; finish`;
  // Without NODE_TEST_CONTEXT, the inner runner reports to its own reporters, not to this one.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const r = spawnSync("bash", ["-c", script], { cwd: REPO, encoding: "utf8", env });
  const out = r.stdout + r.stderr;
  const closing = out.trim().split("\n").at(-1) ?? "";
  return { code: r.status, out, closing };
}

const suite = (...files: string[]) =>
  `node_suite fixture ${files.map((f) => JSON.stringify(join(FIXTURES, f))).join(" ")} >/dev/null`;

describe("the test command's tally", () => {
  it("counts the tests of a suite whose setup hook failed as failed, and exits non-zero", () => {
    const r = withLibrary(suite("hook-fails.mjs"));
    assert.equal(r.closing, "0 passed, 3 failed, 0 skipped", r.out);
    assert.notEqual(r.code, 0);
    assert.match(r.out, /never runs — cancelledByParent/);
    assert.match(r.out, /a suite whose setup fails — hookFailed: setup timed out/);
  });

  it("tells passes, failures, failed teardowns and skips apart, and a skip needs a reason", () => {
    const r = withLibrary(suite("mixed.mjs"));
    assert.equal(r.closing, "2 passed, 3 failed, 1 skipped", r.out);
    assert.match(r.out, /skipped with a reason — cgroups not writable/);
    assert.match(r.out, /skipped without a reason — skipped without a reason/);
    assert.match(r.out, /a suite whose teardown fails — hookFailed: cleanup failed/);
    assert.notEqual(r.code, 0);
  });

  it("counts a file that exits before its tests finish as failed", () => {
    const r = withLibrary(suite("exits-early.mjs"));
    assert.match(r.closing, /^0 passed, [1-9]\d* failed, 0 skipped$/, r.out);
    assert.notEqual(r.code, 0);
  });

  it("counts a runner that wrote nothing as failed", () => {
    const r = withLibrary(`tally node "$TALLY" ghost 137 ${JSON.stringify(join(FIXTURES, "missing.jsonl"))}`);
    assert.equal(r.closing, "0 passed, 1 failed, 0 skipped", r.out);
    assert.match(r.out, /ghost — the test runner wrote no results \(exit 137\)/);
  });

  it("reads pytest's JUnit report: failures, errors and skips; an exit code with no failure still fails", () => {
    const junit = JSON.stringify(join(FIXTURES, "junit-mixed.xml"));
    const r = withLibrary(`tally pytest "$TALLY" pytest 1 ${junit}`);
    assert.equal(r.closing, "1 passed, 3 failed, 1 skipped", r.out);
    assert.match(r.out, /tests\.test_a::test_setup — error: failed on setup with "boom"/);
    assert.match(r.out, /tests\.test_a::test_skip — needs root/);
    const interrupted = withLibrary(`tally pytest "$TALLY" pytest 2 ${junit}`);
    assert.equal(interrupted.closing, "1 passed, 3 failed, 1 skipped");
    const empty = withLibrary(`tally pytest "$TALLY" pytest 5 ${JSON.stringify(join(FIXTURES, "none.xml"))}`);
    assert.equal(empty.closing, "0 passed, 1 failed, 0 skipped");
  });

  it("passes a clean run with exit 0, and counts a failing check step", () => {
    const clean = withLibrary(suite("passes.mjs"));
    assert.equal(clean.closing, "2 passed, 0 failed, 0 skipped", clean.out);
    assert.equal(clean.code, 0);
    const step = withLibrary(`${suite("passes.mjs")}; run_step lint false`);
    assert.equal(step.closing, "2 passed, 1 failed, 0 skipped");
    assert.notEqual(step.code, 0);
  });
});
