/**
 * Deploys that must stop before changing anything: a platform port taken by
 * another process, and a config with mistakes. Nothing may be created on the
 * machine (no folders, no accounts, no state). Concurrent deploys are checked in
 * local-deploy.test.ts, against a platform that is up.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { stringify } from "yaml";
import { type ConfigObject, getent, makePlatform, type Platform, suiteScope } from "./harness.js";

function assertNothingMade(p: Platform, users: string[]): void {
  assert.deepEqual(
    readdirSync(p.root),
    ["atrium.yaml", ...(existsSync(join(p.root, "bad.yaml")) ? ["bad.yaml"] : [])].sort(),
  );
  for (const [what, dir] of Object.entries(p.dirs))
    assert.ok(!existsSync(dir), `${what} folder ${dir} was created`);
  for (const u of users) assert.equal(getent("passwd", u), undefined, `account ${u} was created`);
  assert.ok(!existsSync(`/sys/fs/cgroup/memory/atrium/${p.project}`), "a cgroup was created");
}

describe("deploys refused before any change", () => {
  const scope = suiteScope(after);
  let p: Platform;
  let users: string[];
  let blocker: Server | undefined;

  before(async () => {
    p = await makePlatform(scope, {
      seedUvCache: false,
      config: (n) => ({
        groups: [{ name: n.name("team") }],
        users: [
          { name: n.name("admin"), admin: true, groups: [n.name("team")] },
          { name: n.name("eve"), groups: [n.name("team")] },
        ],
      }),
    });
    users = [p.name("admin"), p.name("eve")];
  });

  after(async () => {
    await new Promise((ok) => (blocker ? blocker.close(ok) : ok(undefined)));
  });

  it("10c. a taken target.port gives a clear message and nothing is created", async () => {
    blocker = createServer((s) => s.destroy());
    await new Promise<void>((ok, fail) => {
      blocker?.once("error", fail);
      blocker?.listen(p.port, "127.0.0.1", () => ok());
    });
    const r = await p.deploy();
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const out = r.stderr + r.stdout;
    assert.match(
      out,
      new RegExp(`port ${p.port} \\(target\\.port\\) is already in use on 127\\.0\\.0\\.1`),
      out,
    );
    // Only the taken port is reported: the others were free.
    for (const [key, port] of Object.entries(p.ports)) {
      assert.ok(!out.includes(`port ${port} `), `target.ports.${key} was reported although it is free`);
    }
    assert.ok(!/^[+~-] /m.test(r.stdout), `a component was started:\n${r.stdout}`);
    assertNothingMade(p, users);
    await new Promise((ok) => blocker?.close(ok));
    blocker = undefined;
  });

  it("10d. a config with mistakes is reported, located, and nothing is created", async () => {
    const bad = join(p.root, "bad.yaml");
    const config = structuredClone(p.config) as ConfigObject & { users: ConfigObject[] };
    (config.users[1] as ConfigObject).groups = [p.name("nosuchgroup")];
    config.colour = "blue";
    const text = stringify(config);
    writeFileSync(bad, text);
    const line = (needle: string) => text.split("\n").findIndex((l) => l.includes(needle)) + 1;

    const r = await p.atrium(["deploy", "-c", bad]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const out = r.stderr + r.stdout;
    assert.match(out, new RegExp(`^${bad}:${line("colour:")}:1  colour  unknown key "colour"`, "m"), out);
    assert.match(
      out,
      new RegExp(
        `^${bad}:${line("nosuchgroup")}:\\d+  users\\[1\\]\\.groups\\[0\\]  .*${p.name("nosuchgroup")}`,
        "m",
      ),
      out,
    );
    assert.match(out, /has 2 problems/);
    assertNothingMade(p, users);
  });
});
