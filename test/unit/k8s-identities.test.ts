/** uid/gid allocation on a cluster: from 10000 up, stable, never reused, the file's ids first. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Platform } from "../../src/model/platform.js";
import {
  allocateIdentities,
  EMPTY_IDENTITIES,
  FIRST_ALLOCATED_ID,
  type IdentityRecord,
} from "../../src/targets/kubernetes/identities.js";

/** Only the names matter to the allocator. */
function platform(users: string[], groups: string[] = []): Platform {
  return {
    users: users.map((name) => ({ name, admin: false, groups: [] })),
    groups: groups.map((name) => ({ name, description: "", shared: true, members: [] })),
  } as unknown as Platform;
}

describe("identity allocation", () => {
  it("allocates from 10000 up, users then groups, in name order", () => {
    assert.equal(FIRST_ALLOCATED_ID, 10000);
    assert.deepEqual(allocateIdentities(EMPTY_IDENTITIES, platform(["bob", "ada"], ["ml"])), {
      users: { ada: 10000, bob: 10001 },
      groups: { ml: 10002 },
      retired: [],
    });
  });

  it("keeps every id it gave while the name stays, whatever is added", () => {
    const first = allocateIdentities(EMPTY_IDENTITIES, platform(["bob"], ["ml"]));
    const second = allocateIdentities(first, platform(["ada", "bob", "cy"], ["ai", "ml"]));
    assert.equal(second.users.bob, first.users.bob);
    assert.equal(second.groups.ml, first.groups.ml);
    assert.deepEqual(second.users, { ada: 10002, bob: 10000, cy: 10003 });
    assert.deepEqual(second.groups, { ai: 10004, ml: 10001 });
    assert.deepEqual(allocateIdentities(second, platform(["ada", "bob", "cy"], ["ai", "ml"])), second);
  });

  it("retires a removed name's id and never hands it out again, not even to the same name", () => {
    const first = allocateIdentities(EMPTY_IDENTITIES, platform(["ada", "bob"], ["ml"]));
    const removed = allocateIdentities(first, platform(["ada"]));
    assert.deepEqual(removed, { users: { ada: 10000 }, groups: {}, retired: [10001, 10002] });
    const back = allocateIdentities(removed, platform(["ada", "bob", "cy"], ["ml"]));
    assert.deepEqual(back.users, { ada: 10000, bob: 10003, cy: 10004 });
    assert.deepEqual(back.groups, { ml: 10005 });
    assert.deepEqual(back.retired, [10001, 10002]);
  });

  it("allocates above the highest id ever known, retired ones included", () => {
    const previous: IdentityRecord = { users: { ada: 10000 }, groups: {}, retired: [10500] };
    assert.equal(allocateIdentities(previous, platform(["ada", "bob"])).users.bob, 10501);
  });

  it("takes the file's ids as given and allocates around them", () => {
    const next = allocateIdentities(EMPTY_IDENTITIES, platform(["ada", "bob"], ["ml"]), {
      users: { ada: 10001 },
      groups: {},
    });
    assert.deepEqual(next.users, { ada: 10001, bob: 10002 });
    assert.deepEqual(next.groups, { ml: 10003 });
  });

  it("retires an allocated id the file replaces, and moves a user whose id the file gives to another", () => {
    const first = allocateIdentities(EMPTY_IDENTITIES, platform(["ada", "bob"]));
    const next = allocateIdentities(first, platform(["ada", "bob"]), {
      users: { ada: 2000, bob: 10000 },
      groups: {},
    });
    assert.deepEqual(next.users, { ada: 2000, bob: 10000 });
    // bob's old id is retired; ada's old one is bob's now, so it is not
    assert.deepEqual(next.retired, [10001]);
  });

  it("keeps a user's and a group's ids apart: a kept id the file now gives a group moves", () => {
    const first = allocateIdentities(EMPTY_IDENTITIES, platform(["ada"]));
    const next = allocateIdentities(first, platform(["ada"], ["ml"]), { users: {}, groups: { ml: 10000 } });
    assert.deepEqual(next, { users: { ada: 10001 }, groups: { ml: 10000 }, retired: [] });
  });
});
