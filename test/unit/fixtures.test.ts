/**
 * Every config fixture is a test case: `<name>.happy.<topic>.yaml` must validate;
 * `<name>.error.<topic>.yaml` must give exactly the messages in the file of the same
 * name ending `.expected` (one formatted problem a line, file named by its base name).
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { formatProblems } from "../../src/config/format.js";
import { validateText } from "../../src/config/load.js";
import { repoPath } from "../../src/paths.js";

const dir = repoPath("test", "fixtures", "configs");
const files = readdirSync(dir).filter((f) => f.endsWith(".yaml"));

describe("config fixtures", () => {
  it("has at least 30 error cases", () => {
    assert.ok(files.filter((f) => f.includes(".error.")).length >= 30);
  });
  for (const f of files) {
    const text = readFileSync(join(dir, f), "utf8");
    if (f.includes(".happy.")) {
      it(`${f} is valid`, () => {
        const loaded = validateText(f, text);
        assert.equal(formatProblems(loaded.problems), "");
        assert.ok(loaded.config);
      });
    } else if (f.includes(".error.")) {
      it(`${f} gives the expected problems`, () => {
        const expected = readFileSync(join(dir, f.replace(/\.yaml$/, ".expected")), "utf8").trimEnd();
        const loaded = validateText(f, text);
        assert.equal(loaded.config, undefined);
        assert.equal(formatProblems(loaded.problems), expected);
      });
    } else {
      it(`${f} is named <name>.<happy|error>.<topic>.yaml`, () => assert.fail(f));
    }
  }
});
