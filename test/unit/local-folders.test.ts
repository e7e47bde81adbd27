/**
 * What a deploy records for `destroy --purge`: the folders it made (parents
 * included, never one that was there before), and a dask-gateway database that a
 * new key could never read is moved aside instead of crashing the gateway.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { validateText } from "../../src/config/load.js";
import { directoriesComponent, readDirectoriesData } from "../../src/targets/local/components/directories.js";
import { secretsComponent } from "../../src/targets/local/components/secrets.js";
import type { LocalContext } from "../../src/targets/local/context.js";
import { gatewayDbFile } from "../../src/targets/local/dask-gateway.js";
import { renderLocal } from "../../src/targets/local/render.js";
import { localOf } from "./local-of.js";

const tmp = mkdtempSync(join(tmpdir(), "atrium-folders-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

function contextIn(root: string): LocalContext {
  const yaml = `project: {name: folders}
target:
  type: local
  prefix: ${root}/opt/atrium
  data_dir: ${root}/var/lib/atrium
  state_dir: ${root}/var/lib/atrium/state
  log_dir: ${root}/var/log/atrium
  shared_dir: ${root}/srv/shared
  envs_dir: ${root}/opt/atrium/environments
  home_dir: ${root}/home
`;
  const loaded = validateText("atrium.yaml", yaml);
  assert.ok(loaded.config, JSON.stringify(loaded.problems));
  const { platform, placement } = localOf(loaded.config);
  return {
    platform,
    placement,
    artifacts: renderLocal(platform, placement),
    systemd: false,
  };
}

const quiet = { detail() {}, important() {} };
const entry = (data: unknown) => ({ hash: "", appliedAt: "", data });

describe("folders a deploy made", () => {
  it("records each folder it made, parents first, and none that was there before", async () => {
    const root = join(tmp, "record");
    mkdirSync(join(root, "home"), { recursive: true });
    mkdirSync(join(root, "var", "lib"), { recursive: true });
    const checkpoints: unknown[] = [];
    const component = directoriesComponent(contextIn(root));
    const result = await component.apply(undefined, {
      ...quiet,
      checkpoint: async (d) => void checkpoints.push(d),
    });
    const { created } = readDirectoriesData(entry(result?.data));
    assert.ok(created.includes(join(root, "opt")), "the prefix's parent it made");
    assert.ok(created.includes(join(root, "var", "lib", "atrium", "state")));
    assert.ok(created.includes(join(root, "srv")));
    assert.ok(!created.includes(join(root, "home")), "home was there before");
    assert.ok(!created.includes(join(root, "var", "lib")), "var/lib was there before");
    assert.ok(created.indexOf(join(root, "opt")) < created.indexOf(join(root, "opt", "atrium")));
    assert.ok(checkpoints.length > 0, "recorded before mkdir, for a deploy killed half-way");
    // a second apply (folders there now) keeps the record
    const again = await component.apply(entry(result?.data), quiet);
    assert.deepEqual(readDirectoriesData(entry(again?.data)).created, created);
  });

  it("moves aside a dask-gateway database when its key is made anew", async () => {
    const ctx = contextIn(join(tmp, "stale"));
    const db = gatewayDbFile(ctx.placement);
    mkdirSync(join(db, ".."), { recursive: true });
    writeFileSync(db, "encrypted with a key that was deleted");
    const lines: string[] = [];
    await secretsComponent(ctx).apply(undefined, { detail: (l) => lines.push(l), important() {} });
    assert.ok(!existsSync(db), "the old database is still where the gateway opens it");
    assert.equal(
      readdirSync(join(db, "..")).filter((f) => f.startsWith("gateway.sqlite.unreadable-")).length,
      1,
    );
    assert.ok(
      lines.some((l) => l.includes("encrypted with a key that is gone")),
      lines.join("\n"),
    );
    // the key exists now: a later apply leaves a new database alone
    writeFileSync(db, "new");
    await secretsComponent(ctx).apply(undefined, quiet);
    assert.ok(existsSync(db));
  });
});
