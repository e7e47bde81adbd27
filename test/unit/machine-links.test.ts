/**
 * Which file a command on a deployed platform reads without -c, and the machine-wide
 * links deploy makes (the command on PATH, the deployed file): made where nothing or
 * an earlier Atrium link is, never over a file of the admin's own, removed only while
 * they point at this platform.
 */
import assert from "node:assert/strict";
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { AtriumError } from "../../src/errors.js";
import {
  binLinkPath,
  DEFAULT_BIN_LINK,
  DEFAULT_DEPLOYED_LINK,
  deployedLinkPath,
  isAtriumCommandLink,
  isDeployedFileLink,
  LAUNCHER_MARK,
  linkIfFree,
  linkSettled,
  resolveConfigFile,
  unlinkIfPointsAt,
} from "../../src/targets/local/machine-links.js";

const root = mkdtempSync(join(tmpdir(), "atrium-links-"));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
function fresh(): string {
  const dir = join(root, String(n++));
  mkdirSync(dir, { recursive: true });
  return dir;
}

describe("the config file without -c", () => {
  it("-c FILE wins over everything", () => {
    const dir = fresh();
    writeFileSync(join(dir, "atrium.yaml"), "version: 1\n");
    assert.equal(resolveConfigFile("other.yaml", dir, {}), "other.yaml");
  });

  it("./atrium.yaml comes next, even when a deployed file is remembered", () => {
    const dir = fresh();
    const deployed = join(dir, "etc", "atrium.yaml");
    mkdirSync(join(dir, "etc"));
    writeFileSync(deployed, "version: 1\n");
    writeFileSync(join(dir, "atrium.yaml"), "version: 1\n");
    assert.equal(resolveConfigFile(undefined, dir, { ATRIUM_DEPLOYED_LINK: deployed }), "atrium.yaml");
  });

  it("then the deployed file, through its link", () => {
    const dir = fresh();
    const copy = join(dir, "state", "atrium.yaml");
    mkdirSync(join(dir, "state"));
    writeFileSync(copy, "version: 1\n");
    const link = join(dir, "etc", "atrium.yaml");
    assert.equal(linkIfFree(link, copy, isDeployedFileLink), "linked");
    const cwd = fresh();
    assert.equal(resolveConfigFile(undefined, cwd, { ATRIUM_DEPLOYED_LINK: link }), link);
    assert.equal(
      readFileSync(resolveConfigFile(undefined, cwd, { ATRIUM_DEPLOYED_LINK: link }), "utf8"),
      "version: 1\n",
    );
  });

  it("says what to do when there is neither", () => {
    const cwd = fresh();
    const link = join(cwd, "nothing", "atrium.yaml");
    assert.throws(
      () => resolveConfigFile(undefined, cwd, { ATRIUM_DEPLOYED_LINK: link }),
      (err: unknown) =>
        err instanceof AtriumError &&
        err.message === `no atrium.yaml in ${cwd}, and no deployed platform is remembered at ${link}` &&
        err.hint === "pass -c FILE (the file you deployed), or run it from the folder holding atrium.yaml",
    );
  });

  it("uses /usr/local/bin/atrium and /etc/atrium/atrium.yaml unless moved", () => {
    assert.equal(binLinkPath({}), DEFAULT_BIN_LINK);
    assert.equal(deployedLinkPath({}), DEFAULT_DEPLOYED_LINK);
    assert.equal(DEFAULT_BIN_LINK, "/usr/local/bin/atrium");
    assert.equal(DEFAULT_DEPLOYED_LINK, "/etc/atrium/atrium.yaml");
    assert.equal(binLinkPath({ ATRIUM_BIN_LINK: "/x/atrium" }), "/x/atrium");
  });
});

describe("the machine-wide links", () => {
  function launcher(dir: string, name: string): string {
    const path = join(dir, name, "bin", "atrium");
    mkdirSync(join(dir, name, "bin"), { recursive: true });
    writeFileSync(path, `#!/bin/sh\n${LAUNCHER_MARK}\nexec true\n`, { mode: 0o755 });
    return path;
  }
  const ours = (link: string) => (current: string) => isAtriumCommandLink(current, link);

  it("links where nothing is, and keeps a link that is already right", () => {
    const dir = fresh();
    const target = launcher(dir, "a");
    const link = join(dir, "usr-local-bin", "atrium");
    assert.equal(linkIfFree(link, target, ours(link)), "linked");
    assert.equal(readlinkSync(link), target);
    assert.equal(linkIfFree(link, target, ours(link)), "unchanged");
    assert.ok(linkSettled(link, target, ours(link)));
  });

  it("takes over another platform's link (the last deploy owns it), also a dangling one", () => {
    const dir = fresh();
    const first = launcher(dir, "a");
    const second = launcher(dir, "b");
    const link = join(dir, "atrium");
    symlinkSync(first, link);
    assert.equal(linkIfFree(link, second, ours(link)), "linked");
    assert.equal(readlinkSync(link), second);
    rmSync(link);
    symlinkSync(join(dir, "gone", "bin", "atrium"), link);
    assert.equal(linkIfFree(link, first, ours(link)), "linked");
    assert.equal(readlinkSync(link), first);
  });

  it("never replaces a file or a link of someone else's", () => {
    const dir = fresh();
    const target = launcher(dir, "a");
    const file = join(dir, "atrium");
    writeFileSync(file, "#!/bin/sh\necho mine\n");
    assert.equal(linkIfFree(file, target, ours(file)), "taken");
    assert.equal(readFileSync(file, "utf8"), "#!/bin/sh\necho mine\n");
    assert.ok(
      linkSettled(file, target, ours(file)),
      "a taken place counts as settled, so deploy doesn't retry",
    );
    const other = join(dir, "other");
    writeFileSync(join(dir, "tool"), "#!/bin/sh\n");
    symlinkSync(join(dir, "tool"), other);
    assert.equal(linkIfFree(other, target, ours(other)), "taken");
    assert.equal(readlinkSync(other), join(dir, "tool"));
    const yaml = join(dir, "atrium.yaml");
    writeFileSync(yaml, "version: 1\n");
    assert.equal(linkIfFree(yaml, join(dir, "state", "atrium.yaml"), isDeployedFileLink), "taken");
    assert.ok(!lstatSync(yaml).isSymbolicLink());
  });

  it("removes a link only while it points at this platform", () => {
    const dir = fresh();
    const mine = launcher(dir, "a");
    const theirs = launcher(dir, "b");
    const link = join(dir, "atrium");
    symlinkSync(theirs, link);
    assert.equal(unlinkIfPointsAt(link, mine), false);
    assert.equal(readlinkSync(link), theirs);
    assert.equal(unlinkIfPointsAt(link, theirs), true);
    assert.throws(() => lstatSync(link));
    assert.equal(unlinkIfPointsAt(link, theirs), false);
  });
});
