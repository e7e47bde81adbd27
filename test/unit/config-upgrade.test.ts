/**
 * `atrium upgrade` and the format migrations. Every file in test/fixtures/configs/v1
 * is a version 1 file: its upgrade must equal the committed `<name>.upgraded.yaml`
 * (for `example-<name>.yaml`, the example itself in examples/), validate, and keep
 * every other line of the file as it was written, comments included.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { formatProblems } from "../../src/config/format.js";
import { validateText } from "../../src/config/load.js";
import { migrate, targetTypeRequired } from "../../src/config/migrate.js";
import { upgradeText } from "../../src/config/upgrade.js";
import { AtriumError } from "../../src/errors.js";
import { repoPath } from "../../src/paths.js";

const dir = repoPath("test", "fixtures", "configs", "v1");
const inputs = readdirSync(dir).filter((f) => f.endsWith(".yaml") && !f.endsWith(".upgraded.yaml"));
const read = (path: string) => readFileSync(path, "utf8");

function expectedFile(name: string): string {
  const example = /^example-(.+)\.yaml$/.exec(name)?.[1];
  return example !== undefined
    ? repoPath("examples", `${example}.yaml`)
    : join(dir, name.replace(/\.yaml$/, ".upgraded.yaml"));
}

/** Line numbers of `after` not in a longest common subsequence with `before`, and how many of `before` are gone. */
function lineDiff(before: string, after: string): { added: number[]; removed: number } {
  const a = before.split("\n");
  const b = after.split("\n");
  const lcs = a.map(() => b.map(() => 0));
  const at = (i: number, j: number) => lcs[i]?.[j] ?? 0;
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      (lcs[i] as number[])[j] = a[i] === b[j] ? at(i + 1, j + 1) + 1 : Math.max(at(i + 1, j), at(i, j + 1));
  const added: number[] = [];
  let i = 0;
  let j = 0;
  while (j < b.length) {
    if (i < a.length && a[i] === b[j]) {
      i++;
      j++;
    } else if (i < a.length && at(i + 1, j) >= at(i, j + 1)) i++;
    else added.push(++j);
  }
  return { added, removed: a.length - at(0, 0) };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

describe("atrium upgrade from version 1 (golden)", () => {
  it("has the two examples and fixtures of each target layout", () => {
    for (const f of [
      "example-quickstart.yaml",
      "example-team.yaml",
      "target-no-type.yaml",
      "target-flow.yaml",
    ])
      assert.ok(inputs.includes(f), f);
  });
  for (const name of inputs) {
    const text = read(join(dir, name));
    it(`${name} upgrades to its expected file, which validates, with every other line kept`, () => {
      const before = validateText(name, text);
      assert.match(
        formatProblems(before.problems),
        /version 1 is an older format of this file; run `atrium upgrade/,
      );
      const upgrade = upgradeText(name, text);
      assert.equal(upgrade.text, read(expectedFile(name)));
      assert.equal(upgrade.from, 1);
      assert.equal(upgrade.to, 2);
      assert.equal(formatProblems(validateText(name, upgrade.text).problems), "");
      // The only lines that differ are the ones the changes name; all else is as written.
      const diff = lineDiff(text, upgrade.text);
      assert.deepEqual(
        diff.added,
        [...new Set(upgrade.changes.map((c) => c.line))].sort((x, y) => x - y),
      );
      assert.ok(diff.removed <= diff.added.length);
      const comments = (t: string) => t.split("\n").filter((l) => /(^|\s)#/.test(l)).length;
      assert.equal(comments(upgrade.text), comments(text));
    });
  }

  it("adds type: local where the block had none, and says where", () => {
    const upgrade = upgradeText("a.yaml", read(join(dir, "target-no-type.yaml")));
    assert.deepEqual(
      upgrade.changes.map((c) => [c.line, c.path.join("."), c.change]),
      [
        [5, "version", "1 -> 2"],
        [16, "target.type", "added local"],
      ],
    );
    assert.deepEqual(upgrade.why, ["1 -> 2: a target block names its type (type: local for this machine)"]);
  });

  it("leaves a current file as it is", () => {
    for (const f of ["quickstart.yaml", "team.yaml"]) {
      const text = read(repoPath("examples", f));
      assert.deepEqual(upgradeText(f, text), { from: 2, to: 2, text, changes: [], why: [] });
    }
    const versionless = "project: {name: plain}\n";
    assert.equal(upgradeText("a.yaml", versionless).text, versionless);
  });

  it("writes the new line with the file's own line ends", () => {
    const text = "version: 1\r\nproject:\r\n  name: crlf\r\ntarget:\r\n  port: 9000\r\n";
    assert.equal(
      upgradeText("a.yaml", text).text,
      "version: 2\r\nproject:\r\n  name: crlf\r\ntarget:\r\n  type: local\r\n  port: 9000\r\n",
    );
  });

  it("refuses what it can't upgrade, saying why", () => {
    const refusal = (text: string) => {
      try {
        upgradeText("a.yaml", text);
      } catch (err) {
        assert.ok(err instanceof AtriumError);
        return `${err.message}; ${err.hint}`;
      }
      return "upgraded";
    };
    assert.equal(
      refusal("version: 3\n"),
      "a.yaml is version 3, newer than this Atrium reads (2); upgrade Atrium instead",
    );
    assert.equal(
      refusal("version: 0\n"),
      "a.yaml says version 0, which is not a version of atrium.yaml; versions are 1 to 2; run atrium validate",
    );
    assert.equal(
      refusal("version: 1\nproject: {name: x\n"),
      "a.yaml is not valid YAML, so it can't be upgraded; fix the lines named above, then run atrium upgrade again",
    );
    assert.equal(
      refusal("version: 1\nbase: &t {port: 9000}\ntarget: *t\n"),
      "atrium upgrade can't change target in place: it is written as an alias (*name): write the value out; edit that part by hand as the README's config reference shows, then run atrium validate",
    );
  });
});

describe("config migrations", () => {
  it("1 -> 2 names the local target in a block without type, and changes nothing else", () => {
    const old = deepFreeze({ version: 1, target: { port: 9000 }, users: [{ name: "ada" }] });
    assert.deepEqual(migrate(old), {
      data: { version: 2, target: { type: "local", port: 9000 }, users: [{ name: "ada" }] },
      from: 1,
    });
    const typed = deepFreeze({ version: 1, target: { type: "aws" } });
    assert.deepEqual(targetTypeRequired(typed), typed);
    const none = deepFreeze({ version: 1 });
    assert.deepEqual(targetTypeRequired(none), none);
  });

  it("runs none on a current file or one without version", () => {
    assert.deepEqual(migrate({ version: 2, target: { port: 1 } }), {
      data: { version: 2, target: { port: 1 } },
    });
    assert.deepEqual(migrate({ target: { port: 1 } }), { data: { target: { port: 1 } } });
  });
});

describe("atrium upgrade (command)", () => {
  const atrium = (...args: string[]) =>
    spawnSync(process.execPath, [repoPath("bin", "atrium.js"), "upgrade", ...args], { encoding: "utf8" });

  it("rewrites the file through its link, keeps its mode, and then has nothing to do", () => {
    const tmp = mkdtempSync(join(tmpdir(), "atrium-upgrade-"));
    try {
      const file = join(tmp, "real.yaml");
      const link = join(tmp, "atrium.yaml");
      writeFileSync(file, read(join(dir, "target-flow.yaml")));
      chmodSync(file, 0o640);
      symlinkSync(file, link);
      const first = atrium("-c", link);
      assert.equal(first.status, 0, first.stderr);
      assert.equal(
        first.stdout,
        [
          `${link}: upgraded from version 1 to 2`,
          "  1 -> 2: a target block names its type (type: local for this machine)",
          `  ${link}:2  version  1 -> 2`,
          `  ${link}:4  target.type  added local`,
          "",
        ].join("\n"),
      );
      assert.equal(read(file), read(join(dir, "target-flow.upgraded.yaml")));
      assert.ok(lstatSync(link).isSymbolicLink());
      assert.equal(statSync(file).mode & 0o777, 0o640);
      assert.deepEqual(readdirSync(tmp).sort(), ["atrium.yaml", "real.yaml"]);
      const second = atrium("-c", link);
      assert.equal(second.status, 0);
      assert.equal(second.stdout, `${link} is already version 2; nothing to change\n`);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it("upgrades a file with other problems, then lists them and exits 1", () => {
    const tmp = mkdtempSync(join(tmpdir(), "atrium-upgrade-"));
    try {
      const file = join(tmp, "atrium.yaml");
      writeFileSync(file, read(repoPath("test", "fixtures", "configs", "version-1.error.version.yaml")));
      const run = atrium("-c", file);
      assert.equal(run.status, 1);
      assert.match(read(file), /^version: 2$/m);
      assert.equal(
        run.stderr,
        [
          `${file}:7:11  target.prefix  "opt/atrium": must be an absolute path (starting with /)`,
          `error: ${file} is now version 2, and has 1 problem the upgrade does not fix`,
          "  hint: fix them and run `atrium validate` again",
          "",
        ].join("\n"),
      );
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
