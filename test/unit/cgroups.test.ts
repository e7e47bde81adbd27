import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { cgroupMarkers, removeCgroups, sliceName, systemdEscape } from "../../src/targets/local/cgroups.js";

describe("the platform's cgroups", () => {
  it("names slices as the hub glue does (systemd-escape)", () => {
    assert.equal(sliceName("atrium/team/users"), "atrium-team-users.slice");
    assert.equal(sliceName("atrium/data-team/users"), "atrium-data\\x2dteam-users.slice");
    assert.equal(systemdEscape(".hidden é"), "\\x2ehidden\\x20\\xc3\\xa9");
  });

  it("finds a process of the platform by its /proc/<pid>/cgroup lines, and not one of a project named alike", () => {
    const markers = cgroupMarkers("atrium/team");
    const inside = (text: string) => markers.some((m) => text.includes(m));
    assert.ok(inside("11:memory:/atrium/team/users/ada\n4:cpu,cpuacct:/atrium/team/users/ada\n"));
    assert.ok(inside("11:memory:/atrium/team\n"));
    assert.ok(inside("0::/atrium.slice/atrium-team.slice/atrium-team-users.slice/x.scope\n"));
    assert.ok(!inside("11:memory:/atrium/team2/users/ada\n4:cpu:/\n"));
    assert.ok(!inside("0::/atrium.slice/atrium-team2.slice/x.scope\n"));
  });

  it("removes the platform's tree deepest first and the parent left empty, never another platform's", async () => {
    const root = mkdtempSync(join(tmpdir(), "atrium-cgroups-"));
    try {
      for (const c of ["memory", "cpu", "devices"]) {
        mkdirSync(join(root, c, "atrium", "team", "users", "ada.ssh"), { recursive: true });
        mkdirSync(join(root, c, "atrium", "team", "dask", "ada", "c1-worker-1"), { recursive: true });
      }
      mkdirSync(join(root, "memory", "atrium", "other"), { recursive: true });
      assert.deepEqual(await removeCgroups("atrium/team", root), []);
      assert.deepEqual(readdirSync(join(root, "memory", "atrium")), ["other"]);
      assert.ok(!existsSync(join(root, "cpu", "atrium")), "the empty parent stays");
      assert.ok(!existsSync(join(root, "devices", "atrium")), "servers' GPU device groups go too");
      assert.ok(existsSync(join(root, "cpu")), "the controller's root is not the platform's");
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("says which cgroup it could not remove", async () => {
    const root = mkdtempSync(join(tmpdir(), "atrium-cgroups-"));
    try {
      mkdirSync(join(root, "memory", "atrium", "team"), { recursive: true });
      // a plain file in a folder stands for a group that still has processes: rmdir fails
      writeFileSync(join(root, "memory", "atrium", "team", "cgroup.procs"), "123\n");
      const left = await removeCgroups("atrium/team", root);
      assert.equal(left.length, 1);
      assert.match(left[0] ?? "", /memory\/atrium\/team \(ENOTEMPTY\)$/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
