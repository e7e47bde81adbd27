import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { loadConfig } from "../../src/config/load.js";
import { repoPath } from "../../src/paths.js";
import { readDaskAuthConfig } from "../../src/services/dask-auth/config.js";
import { readEnvsConfig } from "../../src/services/envs/config.js";
import { readConfig as readSshConfig } from "../../src/services/ssh/config-file.js";
import { targetFor } from "../../src/targets/registry.js";

const dir = mkdtempSync(join(tmpdir(), "atrium-service-configs-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const rendered = targetFor(
  loadConfig(repoPath("examples", "team.yaml")),
  repoPath("examples", "team.yaml"),
).render();

/** The team example's rendered file, changed by `edit`, written to the temp folder. */
function written(artifact: string, edit: (data: Record<string, unknown>) => void): string {
  const data = JSON.parse(rendered.get(artifact) ?? "{}") as Record<string, unknown>;
  edit(data);
  const file = join(dir, artifact.replaceAll("/", "-"));
  writeFileSync(file, JSON.stringify(data));
  return file;
}

describe("services read their config through its contract", () => {
  it("the rendered files read as they are", () => {
    const same = () => {};
    assert.equal(readEnvsConfig(written("services/envs.json", same)).groupEditors, "members");
    assert.equal(readDaskAuthConfig(written("services/dask-auth.json", same)).hubPrefix, "/hub");
    assert.equal(readSshConfig(written("services/ssh.json", same)).version, 1);
  });

  it("envs: every problem, naming the file", () => {
    const file = written("services/envs.json", (d) => {
      delete d.listen;
      d.python = "python3";
      d.groupEditors = "everyone";
    });
    assert.throws(
      () => readEnvsConfig(file),
      (err: Error) => {
        assert.equal(
          err.message,
          [
            `${file} does not follow its contract:`,
            `  ${file}  listen  Invalid input: expected object, received undefined`,
            `  ${file}  python  expected an absolute path`,
            `  ${file}  groupEditors  Invalid option: expected one of "members"|"admins"`,
          ].join("\n"),
        );
        return true;
      },
    );
  });

  it("dask-auth: a wrong type is refused", () => {
    const file = written("services/dask-auth.json", (d) => {
      d.listen = { host: "127.0.0.1", port: "8092" };
    });
    assert.throws(
      () => readDaskAuthConfig(file),
      /listen\.port {2}Invalid input: expected number, received string/,
    );
  });

  it("ssh: a user without limits is refused, and a missing file is named", () => {
    const file = written("services/ssh.json", (d) => {
      delete (d.users as Array<Record<string, unknown>>)[0]?.limits;
    });
    assert.throws(() => readSshConfig(file), /users\[0\]\.limits {2}Invalid input: expected object/);
    const missing = join(dir, "missing.json");
    assert.throws(() => readSshConfig(missing), new RegExp(`can't read ${missing}`));
  });
});
