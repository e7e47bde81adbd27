/** The local state file: a save killed before its rename leaves a temp file the next save or a purge removes. */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadState, removeStateTemps, saveState } from "../../src/targets/local/state-file.js";

/** A pid no process has: above the kernel's default pid_max. */
const DEAD_PID = 4_194_305;

describe("local state file", () => {
  it("a save removes the temp files dead savers left, and keeps a running one's", () => {
    const dir = mkdtempSync(join(tmpdir(), "atrium-state-"));
    try {
      writeFileSync(join(dir, `state.json.tmp-${DEAD_PID}`), "{");
      writeFileSync(join(dir, `state.json.tmp-${process.ppid}`), "{");
      saveState(dir, { version: 1, project: "p", components: {} });
      assert.deepEqual(readdirSync(dir).sort(), ["state.json", `state.json.tmp-${process.ppid}`]);
      assert.deepEqual(loadState(dir, "p").components, {});
      removeStateTemps(dir, true);
      assert.deepEqual(readdirSync(dir), ["state.json"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
