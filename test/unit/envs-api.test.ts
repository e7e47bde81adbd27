/**
 * The environment service's REST API without a server: every route checks the
 * caller, another user's ids answer like missing ones, and no data leaks. Builds
 * fail at once here (no build account), which is enough to exercise the routes.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { ApiBuild, ApiEnvironment } from "../../src/contracts/envs-api.js";
import type { EnvsConfig } from "../../src/services/envs/config.js";
import { daskEnvironments, kernelSpec, kernelsByUser, publish } from "../../src/services/envs/integration.js";
import type { Directory, Person } from "../../src/services/envs/permissions.js";
import { route } from "../../src/services/envs/routes.js";
import { EnvService } from "../../src/services/envs/service.js";
import { EnvStore } from "../../src/services/envs/store.js";

const root = mkdtempSync(join(tmpdir(), "atrium-envs-api-"));
after(() => rmSync(root, { recursive: true, force: true }));

const cfg: EnvsConfig = {
  listen: { host: "127.0.0.1", port: 0 },
  prefix: "/services/envs",
  hubApiUrl: "http://127.0.0.1:1/hub/api",
  hubPrefix: "/hub",
  clientId: "service-envs",
  apiTokenFile: "/nonexistent",
  envsDir: join(root, "envs"),
  stateFile: join(root, "envs", ".atrium", "state.json"),
  kernelsDir: join(root, "envs", ".kernels"),
  daskEnvironmentsFile: null,
  daskEnvironmentsOwner: null,
  python: "/usr/bin/python3",
  defaultEnv: join(root, "no-default-env"),
  uv: { tools: "/nonexistent/uv", cacheDir: join(root, "cache") },
  buildAccount: "atrium-build",
  builds: { concurrency: 1, timeoutSeconds: 60, keep: 5, allowSource: [] },
  cgroup: { v1Root: join(root, "no-cgroups"), parent: "atrium/test/builds" },
  folderAccess: "acl",
  groupEditors: "members",
};

const directory: { current: Directory } = {
  current: {
    users: new Map([
      ["ada", { admin: true, groups: [] }],
      ["alice", { admin: false, groups: ["team"] }],
      ["bob", { admin: false, groups: [] }],
      ["carol", { admin: false, groups: ["team"] }],
    ]),
    groups: new Set(["team"]),
  },
};

const service = new EnvService(
  cfg,
  new EnvStore(null),
  directory,
  {
    pythonVersion: "3.11.2",
    uv: "uv",
    account: undefined,
    platformPins: () => ({ distributed: "2026.8.0" }),
  },
  () => {},
);

const person = (name: string): Person => ({
  name,
  kind: "user",
  admin: name === "ada",
  groups: directory.current.users.get(name)?.groups ?? [],
});

async function call(who: string, method: string, path: string, body: Record<string, unknown> = {}) {
  const [p = "", q = ""] = path.split("?");
  return route(service, person(who), method, p.replace(/^\/+|\/+$/g, ""), new URLSearchParams(q), body);
}

function message(a: { json?: unknown }): string {
  return (a.json as { message?: string }).message ?? "";
}

async function submit(who: string, namespace: string, name: string, specification: string) {
  return call(who, "POST", "specification/", { namespace, environment_name: name, specification });
}

describe("environment API", () => {
  let aliceBuild = 0;

  it("lets a user create an environment in their own namespace", async () => {
    const r = await submit("alice", "alice", "mine", "humanize\n");
    assert.equal(r.status, 200, message(r));
    const data = (r.json as { data: { build_id: number; build: ApiBuild } }).data;
    aliceBuild = data.build_id;
    assert.equal(data.build.namespace, "alice");
    assert.deepEqual(data.build.specification.requirements, ["humanize", "ipykernel", "distributed"]);
    assert.deepEqual(data.build.specification.constraints, ["distributed==2026.8.0"]);
    await service.queue.idle();
    const build = await call("alice", "GET", `build/${aliceBuild}/`);
    assert.equal((build.json as { data: ApiBuild }).data.status, "FAILED");
    assert.match(
      (build.json as { data: ApiBuild }).data.status_info ?? "",
      /build account atrium-build is missing/,
    );
  });

  it("defaults to the caller's own namespace, as conda-store does", async () => {
    const r = await call("carol", "POST", "specification/", {
      specification: "name: tools\ndependencies: [six]\n",
    });
    assert.equal(r.status, 200, message(r));
    assert.equal((r.json as { data: { build: ApiBuild } }).data.build.namespace, "carol");
  });

  it("refuses another user's namespace with 403 and shows none of it", async () => {
    const post = await submit("bob", "alice", "mine", "six\n");
    assert.equal(post.status, 403);
    assert.equal(message(post), 'namespace "alice" is not yours to see');
    const get = await call("bob", "GET", "environment/alice/mine/");
    assert.equal(get.status, 403);
    assert.doesNotMatch(JSON.stringify(get.json), /humanize/);
    for (const [method, path] of [
      ["PUT", "environment/alice/mine/"],
      ["DELETE", "environment/alice/mine/"],
    ] as const) {
      const r = await call("bob", method, path, { build_id: aliceBuild });
      assert.equal(r.status, 403, `${method} ${path}`);
    }
  });

  it("answers another user's build ids exactly like missing ones", async () => {
    for (const suffix of ["", "logs/", "lockfile/", "yaml/"]) {
      const theirs = await call("bob", "GET", `build/${aliceBuild}/${suffix}`);
      const missing = await call("bob", "GET", `build/999999/${suffix}`);
      assert.equal(theirs.status, 404, suffix);
      assert.equal(missing.status, 404, suffix);
      assert.equal(message(theirs).replace(String(aliceBuild), "N"), message(missing).replace("999999", "N"));
      assert.equal(theirs.text, undefined);
    }
    for (const [method, path] of [
      ["PUT", `build/${aliceBuild}/`],
      ["PUT", `build/${aliceBuild}/cancel/`],
      ["DELETE", `build/${aliceBuild}/`],
    ] as const) {
      assert.equal((await call("bob", method, path)).status, 404, `${method} ${path}`);
    }
  });

  it("lists only what the caller may see", async () => {
    const bobs = (await call("bob", "GET", "environment/")).json as { data: ApiEnvironment[]; count: number };
    assert.deepEqual(bobs.data, []);
    assert.equal(bobs.count, 0);
    const builds = (await call("bob", "GET", "build/")).json as { data: ApiBuild[] };
    assert.deepEqual(builds.data, []);
    const ns = (await call("bob", "GET", "namespace/")).json as { data: Array<{ name: string }> };
    assert.deepEqual(
      ns.data.map((n) => n.name),
      ["global", "bob"],
    );
    const admins = (await call("ada", "GET", "environment/")).json as { data: ApiEnvironment[] };
    assert.deepEqual(
      admins.data.map((e) => `${e.namespace.name}/${e.name}`),
      ["alice/mine", "carol/tools"],
    );
  });

  it("global: admins edit, others may not", async () => {
    const r = await submit("alice", "global", "tools", "six\n");
    assert.equal(r.status, 403);
    assert.equal(
      message(r),
      'you may not change namespace "global": only admins may change global environments',
    );
    assert.equal((await submit("ada", "global", "tools", "six\n")).status, 200);
    assert.equal((await call("bob", "GET", "environment/global/tools/")).status, 200);
  });

  it("a group: members create and see; others get 403; admins can make it admins-only", async () => {
    assert.equal((await submit("alice", "team", "shared", "tomli\n")).status, 200);
    assert.equal((await call("carol", "GET", "environment/team/shared/")).status, 200);
    assert.equal((await call("bob", "GET", "environment/team/shared/")).status, 403);
    assert.equal((await submit("bob", "team", "other", "six\n")).status, 403);
    assert.equal((await call("alice", "PUT", "namespace/team/", { editors: "admins" })).status, 403);
    const set = await call("ada", "PUT", "namespace/team/", { editors: "admins" });
    assert.equal(set.status, 200, message(set));
    const refused = await submit("carol", "team", "shared", "tomli\nsix\n");
    assert.equal(refused.status, 403);
    assert.equal(
      message(refused),
      'you may not change namespace "team": only admins may change its environments',
    );
    assert.equal((await call("ada", "PUT", "namespace/team/", { editors: "members" })).status, 200);
  });

  it("only a completed build can become current", async () => {
    await service.queue.idle();
    const r = await call("alice", "PUT", "environment/alice/mine/", { build_id: aliceBuild });
    assert.equal(r.status, 409);
    assert.equal(message(r), `build ${aliceBuild} is failed; only a completed build can be current`);
  });

  it("rejects bad specs with every problem, and a Python other than the system's", async () => {
    const bad = await submit(
      "alice",
      "alice",
      "gpu",
      "dependencies:\n  - cudatoolkit\n  - pip:\n    - -e .\n",
    );
    assert.equal(bad.status, 400);
    assert.match(
      message(bad),
      /"cudatoolkit" is a conda package that is not on PyPI: it needs a conda backend/,
    );
    assert.match(
      message(bad),
      /dependencies\[1\]\.pip\[0\]: "-e \." is not one requirement: options \(-r, -c, -e, -f, --index-url, \.\.\.\) are not allowed/,
    );
    const py = await submit("alice", "alice", "new", "dependencies:\n  - python=3.12\n");
    assert.equal(py.status, 400);
    assert.match(message(py), /environments are built on the system Python 3\.11\.2/);
    const name = await submit("alice", "alice", "Bad_Name", "six\n");
    assert.equal(name.status, 400);
    assert.equal((await call("alice", "GET", "environment/alice/gpu/")).status, 404);
  });

  it("answers unknown routes and methods plainly", async () => {
    assert.equal((await call("alice", "GET", "nothing/")).status, 404);
    assert.equal((await call("alice", "DELETE", "namespace/")).status, 405);
    const status = (await call("alice", "GET", "")).json as { data: { python: string } };
    assert.equal(status.data.python, "3.11.2");
  });
});

describe("kernels and Dask environments", () => {
  const mine = { namespace: "alice", name: "mine", prefix: "/e/alice/mine/current", users: ["alice"] };
  const envs = [
    { namespace: "global", name: "tools", prefix: "/e/global/tools/current", users: null },
    { namespace: "team", name: "shared", prefix: "/e/team/shared/current", users: ["alice", "carol"] },
    mine,
  ];

  it("gives each user a kernel for exactly the environments they may use", () => {
    const byUser = kernelsByUser(envs, ["alice", "bob", "carol"]);
    assert.deepEqual([...(byUser.get("alice")?.keys() ?? [])], ["global.tools", "team.shared", "alice.mine"]);
    assert.deepEqual([...(byUser.get("bob")?.keys() ?? [])], ["global.tools"]);
    assert.deepEqual([...(byUser.get("carol")?.keys() ?? [])], ["global.tools", "team.shared"]);
  });

  it("starts the environment's Python through its current link", () => {
    assert.deepEqual(kernelSpec(mine), {
      argv: ["/e/alice/mine/current/bin/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
      display_name: "mine (alice)",
      language: "python",
      interrupt_mode: "signal",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: jupyter_client substitutes ${PATH}
      env: { PATH: "/e/alice/mine/current/bin:${PATH}", VIRTUAL_ENV: "/e/alice/mine/current" },
      metadata: { debugger: true, atrium: { namespace: "alice", environment: "mine" } },
    });
  });

  it("lists worker environments for dask-gateway with their users", () => {
    assert.deepEqual(JSON.parse(daskEnvironments(envs)), [
      { name: "alice/mine", bin: "/e/alice/mine/current/bin", users: ["alice"] },
      { name: "global/tools", bin: "/e/global/tools/current/bin", users: null },
      { name: "team/shared", bin: "/e/team/shared/current/bin", users: ["alice", "carol"] },
    ]);
  });

  it("gives the Dask list to the gateway's account where it is not root, 0600, and again if it lost it", async (t) => {
    if (process.getuid?.() !== 0) return t.skip("needs root to give a file away");
    const dir = mkdtempSync(join(tmpdir(), "atrium-unit-dask-list-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const daskFile = join(dir, "dask.json");
    // no users: their kernel folders need their accounts; only the Dask list is under test
    const opts = { kernelsDir: join(dir, "kernels"), daskFile, envs, users: [] };
    await publish({ ...opts, daskFileOwner: 997 });
    assert.equal(statSync(daskFile).uid, 997);
    assert.equal(statSync(daskFile).mode & 0o777, 0o600);
    assert.equal(await publish({ ...opts, daskFileOwner: 997 }), 0, "an unchanged list was written again");
    await publish({ ...opts, daskFileOwner: null });
    assert.equal(statSync(daskFile).uid, 997, "no owner given: the file is left as it is");
    assert.ok((await publish({ ...opts, daskFileOwner: 998 })) > 0);
    assert.equal(statSync(daskFile).uid, 998);
  });
});
