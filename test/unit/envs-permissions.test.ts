/** Namespace permissions: global, group and user namespaces, for users, admins and services. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type Directory,
  mayEdit,
  mayUse,
  mayView,
  namespaceKind,
  type Person,
  usersOf,
  visibleNamespaces,
} from "../../src/services/envs/permissions.js";

const dir: Directory = {
  users: new Map([
    ["ada", { admin: true, groups: [] }],
    ["alice", { admin: false, groups: ["team"] }],
    ["bob", { admin: false, groups: [] }],
    ["carol", { admin: false, groups: ["team", "viz"] }],
  ]),
  groups: new Set(["team", "viz", "empty"]),
};

const user = (name: string): Person => ({
  name,
  kind: "user",
  admin: dir.users.get(name)?.admin ?? false,
  groups: dir.users.get(name)?.groups ?? [],
});
const atrium: Person = { name: "atrium", kind: "service", admin: true, groups: [] };
const otherService: Person = { name: "dask-gateway", kind: "service", admin: false, groups: [] };

describe("namespaces", () => {
  it("knows global, users and groups, and nothing else", () => {
    assert.equal(namespaceKind("global", dir), "global");
    assert.equal(namespaceKind("alice", dir), "user");
    assert.equal(namespaceKind("team", dir), "group");
    assert.equal(namespaceKind("nobody", dir), undefined);
  });

  it("global: everyone uses, admins edit", () => {
    for (const name of ["alice", "bob", "ada"])
      assert.equal(mayUse(user(name), "global", "global", dir), true);
    assert.equal(mayEdit(user("alice"), "global", "global", dir, "members"), false);
    assert.equal(mayEdit(user("ada"), "global", "global", dir, "members"), true);
    assert.equal(mayEdit(atrium, "global", "global", dir, "members"), true);
  });

  it("a group: members use; members edit unless the namespace says admins", () => {
    assert.equal(mayUse(user("alice"), "team", "group", dir), true);
    assert.equal(mayUse(user("bob"), "team", "group", dir), false);
    assert.equal(mayView(user("bob"), "team", "group", dir), false);
    assert.equal(mayEdit(user("carol"), "team", "group", dir, "members"), true);
    assert.equal(mayEdit(user("carol"), "team", "group", dir, "admins"), false);
    assert.equal(mayEdit(user("bob"), "team", "group", dir, "members"), false);
    assert.equal(mayEdit(user("ada"), "team", "group", dir, "admins"), true);
  });

  it("a user's: the owner only; admins may see and edit but not use it", () => {
    assert.equal(mayUse(user("alice"), "alice", "user", dir), true);
    assert.equal(mayEdit(user("alice"), "alice", "user", dir, "members"), true);
    assert.equal(mayView(user("bob"), "alice", "user", dir), false);
    assert.equal(mayEdit(user("bob"), "alice", "user", dir, "members"), false);
    assert.equal(mayView(user("ada"), "alice", "user", dir), true);
    assert.equal(mayUse(user("ada"), "alice", "user", dir), false);
    assert.equal(mayEdit(atrium, "alice", "user", dir, "members"), true);
  });

  it("membership comes from the hub's directory, not from what the caller claims", () => {
    const claims: Person = { name: "bob", kind: "user", admin: false, groups: ["team"] };
    assert.equal(mayUse(claims, "team", "group", dir), false);
  });

  it("membership ends as soon as the hub's answer for the request drops the group", () => {
    const removed: Person = { name: "carol", kind: "user", admin: false, groups: [] };
    assert.equal(mayUse(removed, "team", "group", dir), false);
    assert.equal(mayUse(user("carol"), "team", "group", dir), true);
  });

  it("a service that is not an admin gets nothing", () => {
    assert.equal(mayView(otherService, "global", "global", dir), false);
    assert.deepEqual(visibleNamespaces(otherService, dir), []);
  });

  it("lists what each may see: global, then groups, then users", () => {
    assert.deepEqual(visibleNamespaces(user("carol"), dir), ["global", "team", "viz", "carol"]);
    assert.deepEqual(visibleNamespaces(user("bob"), dir), ["global", "bob"]);
    assert.deepEqual(visibleNamespaces(atrium, dir), [
      "global",
      "empty",
      "team",
      "viz",
      "ada",
      "alice",
      "bob",
      "carol",
    ]);
  });

  it("says who may use a namespace's environments (kernels, Dask)", () => {
    assert.equal(usersOf("global", "global", dir), null);
    assert.deepEqual(usersOf("team", "group", dir), ["alice", "carol"]);
    assert.deepEqual(usersOf("empty", "group", dir), []);
    assert.deepEqual(usersOf("bob", "user", dir), ["bob"]);
  });
});
