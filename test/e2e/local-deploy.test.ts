/**
 * The local target, end to end: one team-like platform deployed for real and
 * exercised the way its admin and users would (login form, REST spawn, a real
 * kernel, files on disk, limits, redeploys, hub restart, status, destroy).
 * The tests share the platform and run in order; each asserts what it checks.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  accessSync,
  constants,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse, stringify } from "yaml";
import {
  appliedComponents,
  type ConfigObject,
  GiveUp,
  getent,
  idOf,
  makePlatform,
  type Platform,
  pidAlive,
  REPO,
  sleep,
  suiteScope,
  waitFor,
} from "./harness.js";
import { KernelClient, memoryHogCell } from "./kernel.js";

const MiB = 1024 * 1024;
const SMALL_LIMIT = 512 * MiB;
const BIG_LIMIT = 2048 * MiB;

interface ServerModel {
  ready: boolean;
  pending: string | null;
  url: string;
  user_options?: { profile?: string };
  state?: {
    pid?: number;
    atrium_cgroup?: { mode?: string; dirs?: Record<string, string> };
    atrium_profile?: string;
  };
}

interface UserModel {
  name: string;
  groups: string[];
  servers?: Record<string, ServerModel>;
}

function password(): string {
  return `pw-${randomBytes(9).toString("hex")}`;
}

function cgroupsWritable(): boolean {
  try {
    accessSync("/sys/fs/cgroup/memory", constants.W_OK);
    return existsSync("/sys/fs/cgroup/memory/cgroup.procs");
  } catch {
    return false;
  }
}

/** The path of `pid`'s cgroup in the v1 `controller` hierarchy, from /proc/<pid>/cgroup. */
function cgroupOf(pid: number, controller: string): string | undefined {
  for (const line of readFileSync(`/proc/${pid}/cgroup`, "utf8").split("\n")) {
    const [, controllers, path] = line.split(":");
    if (controllers?.split(",").includes(controller)) return path;
  }
  return undefined;
}

function fileMode(path: string): number {
  return statSync(path).mode & 0o7777;
}

function readPidFile(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, "utf8"), 10);
    return Number.isInteger(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

describe("local deploy of a team platform", () => {
  let p: Platform;
  const pw: Record<string, string> = {};
  const tokens: Record<string, string> = {};
  let names: { admin: string; alice: string; bob: string; carol: string; dave: string; keep: string };
  let groups: { data: string; ml: string; ops: string; viz: string };
  let kernel: KernelClient | undefined;
  let aliceServerPid = 0;
  let adminPassword = "";

  const scope = suiteScope(after);
  const hubPidFile = () => join(p.dirs.state, "run", "hub.pid");
  const home = (user: string) => join(p.dirs.home, user);

  async function userModel(name: string, token?: string): Promise<UserModel> {
    const r = await p.hubApi(`/users/${name}`, token ? { token } : {});
    assert.equal(r.status, 200, `GET /users/${name}: ${r.status} ${r.text}`);
    return r.json<UserModel>();
  }

  async function waitReady(name: string, timeoutMs = 240_000): Promise<ServerModel> {
    return waitFor(
      `${name}'s server to be ready`,
      async () => {
        const s = (await userModel(name)).servers?.[""];
        return s?.ready ? s : undefined;
      },
      timeoutMs,
      1000,
    );
  }

  async function stopServer(name: string): Promise<void> {
    const stop = await p.hubApi(`/users/${name}/server`, { method: "DELETE" });
    assert.ok([202, 204].includes(stop.status), `stopping ${name}'s server answered ${stop.status}`);
    await waitFor(
      `${name}'s server to stop`,
      async () => (Object.keys((await userModel(name)).servers ?? {}).length === 0 ? true : undefined),
      60_000,
    );
  }

  function secretValues(): Map<string, string> {
    const dir = join(p.dirs.data, "secrets");
    const values = new Map<string, string>();
    for (const name of readdirSync(dir)) {
      if (name.endsWith(".pub")) continue;
      const text = readFileSync(join(dir, name), "utf8").trim();
      if (name === "passwords.json") {
        for (const [user, hash] of Object.entries(JSON.parse(text) as Record<string, string>)) {
          values.set(`bcrypt hash of ${user}`, hash);
        }
      } else if (text.length >= 8) {
        values.set(name, text);
      }
    }
    return values;
  }

  function assertNoSecretInProcessList(): void {
    const ps = execFileSync("ps", ["-eo", "args", "--no-headers"], { encoding: "utf8", maxBuffer: 64 * MiB });
    // Make sure the list really shows the platform's processes.
    assert.match(ps, new RegExp(`jupyterhub -f ${p.dirs.prefix}/etc/`), "the hub is not in ps output");
    const values = secretValues();
    assert.ok(values.size >= 4, `expected at least 4 secret values, found ${[...values.keys()].join(", ")}`);
    for (const [what, value] of values) {
      assert.ok(!ps.includes(value), `${what} appears in ps -eo args`);
    }
  }

  before(async () => {
    p = await makePlatform(scope, {
      config: (n) => ({
        project: { welcome: "End-to-end test platform <for the team>" },
        groups: [
          { name: n.name("data"), description: "Data team" },
          { name: n.name("ml"), description: "Machine learning" },
          { name: n.name("ops"), description: "Operations" },
        ],
        users: [
          { name: n.name("admin"), admin: true, groups: [n.name("ops")] },
          { name: n.name("alice"), groups: [n.name("data"), n.name("ml")] },
          { name: n.name("bob"), groups: [n.name("data")] },
          { name: n.name("carol"), groups: [n.name("ml"), n.name("ops")] },
        ],
        profiles: [
          {
            name: "small",
            display_name: "Small",
            description: "1 core, 512 MiB",
            default: true,
            cpu_limit: 1,
            mem_limit: "512Mi",
          },
          {
            name: "big",
            display_name: "Big",
            description: "2 GiB, machine learning only",
            mem_limit: "2Gi",
            groups: [n.name("ml")],
          },
        ],
      }),
    });
    names = {
      admin: p.name("admin"),
      alice: p.name("alice"),
      bob: p.name("bob"),
      carol: p.name("carol"),
      dave: p.name("dave"),
      keep: p.name("keep"),
    };
    groups = { data: p.name("data"), ml: p.name("ml"), ops: p.name("ops"), viz: p.name("viz") };
    // An account Atrium did not make: destroy --purge must leave it alone.
    execFileSync("useradd", ["-M", "-U", "-s", "/usr/sbin/nologin", names.keep]);
  });

  after(() => {
    kernel?.close();
  });

  it("1. first deploy creates every component, prints the admin password once, keeps secrets root-only", async () => {
    // What the platform consists of comes from plan (which touches nothing): every
    // component must be new, and the deploy must create exactly those, in order.
    const planned = await p.atrium(["plan", "-c", p.configFile, "--json"]);
    assert.equal(planned.code, 0, planned.stdout + planned.stderr);
    const plan = JSON.parse(planned.stdout) as { changes: Array<{ component: string; kind: string }> };
    const expected = plan.changes.map((c) => c.component);
    for (const c of plan.changes) assert.equal(c.kind, "create", `${c.component} is not new in the plan`);
    for (const core of [
      "hub-env",
      "user-env",
      "accounts",
      "shared-folders",
      "config-files",
      "admin-password",
      "services",
    ]) {
      assert.ok(expected.includes(core), `the plan has no ${core} component: ${expected.join(", ")}`);
    }
    assert.ok(!existsSync(p.dirs.state), "plan created the state folder");

    const r = await p.deploy();
    const output = `${r.stdout}\n${r.stderr}`;
    assert.equal(r.code, 0, `deploy failed:\n${output}`);
    process.stdout.write(`# first deploy took ${r.seconds.toFixed(1)}s\n`);

    const applied = appliedComponents(r.stdout);
    assert.deepEqual([...applied.keys()], expected, r.stdout);
    for (const [name, how] of applied) assert.equal(how, "created", `${name} was ${how}`);
    assert.match(
      r.stdout,
      new RegExp(`Deployed in [\\d.]+s: ${expected.length} create, 0 update, 0 delete, 0 unchanged`),
    );

    const shown = [...r.stdout.matchAll(/First login: user "([^"]+)", password "([^"]+)"/g)];
    assert.equal(shown.length, 1, `the first admin's password must be printed exactly once:\n${r.stdout}`);
    assert.equal(shown[0]?.[1], names.admin);
    adminPassword = shown[0]?.[2] ?? "";
    const pwFile = join(p.dirs.data, "secrets", `initial-password-${names.admin}`);
    assert.equal(readFileSync(pwFile, "utf8").trim(), adminPassword);
    assert.equal(fileMode(pwFile), 0o600);
    assert.equal(
      r.stdout.split(adminPassword).length - 1,
      1,
      "the password appears more than once in the output",
    );
    assert.ok(!r.stderr.includes(adminPassword), "the password is on stderr");

    const secrets = join(p.dirs.data, "secrets");
    assert.equal(fileMode(secrets), 0o700);
    assert.equal(statSync(secrets).uid, 0);
    const files = readdirSync(secrets);
    for (const f of ["cookie_secret", "proxy_auth_token", "atrium_api_token", "passwords.json"]) {
      assert.ok(files.includes(f), `${f} is missing from ${secrets}`);
    }
    for (const f of files) {
      const st = lstatSync(join(secrets, f));
      assert.ok(st.isFile(), `${f} is not a regular file`);
      if (f.endsWith(".pub")) {
        // The public half of a key pair is no secret; it must still be root's alone to change.
        assert.equal(st.mode & 0o022, 0, `${f} has mode ${(st.mode & 0o777).toString(8)}`);
      } else {
        assert.equal(st.mode & 0o777, 0o600, `${f} has mode ${(st.mode & 0o777).toString(8)}`);
      }
      assert.equal(st.uid, 0, `${f} is not owned by root`);
      assert.equal(st.gid, 0, `${f} is not in group root`);
    }

    assertNoSecretInProcessList();

    // "never in logs": no secret value in any log file (the admin password may only
    // have gone to the deploy's own terminal).
    const values = secretValues();
    values.set("first admin password", adminPassword);
    for (const log of readdirSync(p.dirs.log)) {
      const text = readFileSync(join(p.dirs.log, log), "utf8");
      for (const [what, value] of values) assert.ok(!text.includes(value), `${what} appears in ${log}`);
    }

    // The admin can log in with the printed password.
    const login = await p.login(names.admin, adminPassword);
    assert.equal(login.status, 302, "the admin's first login failed");
  });

  it("2. a user logs in, spawns through the REST API, runs code in a real kernel as themselves", async () => {
    const alice = names.alice;
    pw[alice] = password();
    await p.setPassword(alice, pw[alice]);

    const wrong = await p.login(alice, `${pw[alice]}-wrong`);
    assert.notEqual(wrong.status, 302, "a wrong password was accepted");
    const login = await p.login(alice, pw[alice]);
    assert.equal(login.status, 302, "login with the password set by atrium passwd failed");
    assert.match(login.location ?? "", /^\/hub\//);
    const homePage = await p.get("/hub/home", { cookie: login.cookie });
    assert.equal(homePage.status, 200);
    assert.ok(homePage.text.includes(alice), "the hub home page does not name the logged-in user");

    tokens[alice] = await p.userToken(alice);
    const spawn = await p.hubApi(`/users/${alice}/server`, {
      method: "POST",
      token: tokens[alice],
      body: { profile: "small" },
    });
    assert.ok([201, 202].includes(spawn.status), `spawn answered ${spawn.status}: ${spawn.text}`);
    const server = await waitReady(alice);
    assert.equal(server.user_options?.profile, "small");
    const admin = (await userModel(alice)).servers?.[""];
    aliceServerPid = admin?.state?.pid ?? 0;
    assert.ok(
      aliceServerPid > 0 && pidAlive(aliceServerPid),
      `no live server pid in the spawner state: ${JSON.stringify(admin)}`,
    );

    kernel = await KernelClient.start(`${p.url}/user/${alice}`, tokens[alice]);
    const sum = await kernel.execute("5*4");
    assert.equal(sum.status, "ok");
    assert.equal(sum.result, "20");

    const who = await kernel.execute(
      [
        "import os, grp, json",
        "print(json.dumps({'uid': os.getuid(), 'euid': os.geteuid(),",
        "  'groups': sorted(grp.getgrgid(g).gr_name for g in os.getgroups()),",
        "  'home': os.environ['HOME'], 'expanded': os.path.expanduser('~'), 'cwd': os.getcwd()}))",
      ].join("\n"),
    );
    assert.equal(who.status, "ok", JSON.stringify(who));
    const info = JSON.parse(who.stdout) as {
      uid: number;
      euid: number;
      groups: string[];
      home: string;
      expanded: string;
      cwd: string;
    };
    const uid = Number(idOf(alice, "-u"));
    assert.equal(info.uid, uid);
    assert.equal(info.euid, uid);
    assert.ok(info.groups.includes(groups.data) && info.groups.includes(groups.ml), `groups: ${info.groups}`);
    assert.ok(
      !info.groups.includes(groups.ops),
      `alice is not in ops, but the kernel has it: ${info.groups}`,
    );
    assert.equal(info.home, home(alice));
    assert.equal(info.expanded, home(alice));
    assert.equal(info.cwd, home(alice));

    const homeSt = statSync(home(alice));
    assert.equal(homeSt.mode & 0o777, 0o700, `home mode ${(homeSt.mode & 0o777).toString(8)}`);
    assert.equal(homeSt.uid, uid);
    assert.equal(readlinkSync(join(home(alice), "shared", groups.data)), join(p.dirs.shared, groups.data));

    const files = await kernel.execute(
      [
        "import os, json",
        `mine = os.path.expanduser('~/shared/${groups.data}/from-kernel.txt')`,
        "with open(mine, 'w') as f:",
        "    f.write('written by the kernel\\n')",
        "try:",
        `    with open('${join(p.dirs.shared, groups.ops)}/intruder.txt', 'w') as f:`,
        "        f.write('x')",
        "    other = 'written'",
        "except Exception as e:",
        "    other = type(e).__name__",
        "print(json.dumps({'other': other}))",
      ].join("\n"),
    );
    assert.equal(files.status, "ok", JSON.stringify(files));
    assert.equal((JSON.parse(files.stdout) as { other: string }).other, "PermissionError");
    assert.ok(!existsSync(join(p.dirs.shared, groups.ops, "intruder.txt")));

    const written = join(p.dirs.shared, groups.data, "from-kernel.txt");
    const st = statSync(written);
    assert.equal(st.uid, uid, "the file is not owned by the user");
    assert.equal(st.gid, Number(getent("group", groups.data)?.split(":")[2]), "the file is not in the group");
    assert.equal(st.mode & 0o060, 0o060, `the file is not group-writable: ${(st.mode & 0o777).toString(8)}`);
    assert.equal(st.mode & 0o007, 0, `the file is open to others: ${(st.mode & 0o777).toString(8)}`);
    const acl = execFileSync("getfacl", ["-cp", written], { encoding: "utf8" });
    // The named group entry may carry x, but the mask leaves it read-write.
    assert.match(acl, new RegExp(`^group:${groups.data}:rw[-x](\\s+#effective:rw-)?$`, "m"), acl);
    assert.match(acl, /^mask::rw[-x]$/m, acl);
    // Another member of the group really can write to it.
    const bobWrites = spawnSync("runuser", [
      "-u",
      names.bob,
      "--",
      "sh",
      "-c",
      `echo from-bob >> '${written}'`,
    ]);
    assert.equal(bobWrites.status, 0, `bob could not write to the group's file: ${bobWrites.stderr}`);
    assert.match(readFileSync(written, "utf8"), /from-bob/);

    assertNoSecretInProcessList();
  });

  it("2b. the login page shows the project's title and welcome text, escaped", async () => {
    const page = await p.get("/hub/login");
    assert.equal(page.status, 200);
    const title = (p.config.project as { title: string }).title;
    assert.match(page.text, new RegExp(`<title>${title}</title>`));
    assert.match(page.text, new RegExp(`<h1 id="atrium-title">${title}</h1>`));
    assert.match(
      page.text,
      /<p id="atrium-welcome" class="lead">End-to-end test platform &lt;for the team&gt;<\/p>/,
    );
    assert.match(page.text, /id="username_input"/);
  });

  it("3. a profile the user may not use is refused, leaves nothing behind; the form lists only allowed profiles", async () => {
    const { bob, carol } = names;
    pw[bob] = password();
    pw[carol] = password();
    await p.setPassword(bob, pw[bob]);
    await p.setPassword(carol, pw[carol]);
    tokens[bob] = await p.userToken(bob);
    tokens[carol] = await p.userToken(carol);

    const refused = await p.hubApi(`/users/${bob}/server`, {
      method: "POST",
      token: tokens[bob],
      body: { profile: "big" },
    });
    assert.equal(
      refused.status,
      403,
      `spawning a forbidden profile answered ${refused.status}: ${refused.text}`,
    );
    assert.match(refused.text, /big/);
    await sleep(1000);
    const bobServers = (await userModel(bob)).servers ?? {};
    assert.deepEqual(Object.keys(bobServers), [], `bob got a server anyway: ${JSON.stringify(bobServers)}`);

    const unknown = await p.hubApi(`/users/${bob}/server`, {
      method: "POST",
      token: tokens[bob],
      body: { profile: "no-such-profile" },
    });
    assert.ok([400, 403].includes(unknown.status), `an unknown profile answered ${unknown.status}`);

    // A refused request leaves nothing behind: a start without options (the hub then reuses
    // the stored ones) gets bob's default profile instead of the same refusal again.
    const plain = await p.hubApi(`/users/${bob}/server`, { method: "POST", token: tokens[bob], body: {} });
    assert.ok(
      [201, 202].includes(plain.status),
      `a plain spawn after refused ones answered ${plain.status}: ${plain.text}`,
    );
    assert.equal((await waitReady(bob)).state?.atrium_profile, "small");
    await stopServer(bob);

    const bobLogin = await p.login(bob, pw[bob]);
    assert.equal(bobLogin.status, 302);
    const bobForm = await p.get(`/hub/spawn/${bob}`, { cookie: bobLogin.cookie });
    assert.equal(bobForm.status, 200, bobForm.text.slice(0, 500));
    assert.match(bobForm.text, /name="profile"[^>]*value="small"/);
    assert.doesNotMatch(bobForm.text, /value="big"/);

    // A member of the profile's group sees it and may use it: the refusal above is about bob.
    const carolLogin = await p.login(carol, pw[carol]);
    assert.equal(carolLogin.status, 302);
    const carolForm = await p.get(`/hub/spawn/${carol}`, { cookie: carolLogin.cookie });
    assert.equal(carolForm.status, 200);
    assert.match(carolForm.text, /value="small"/);
    assert.match(carolForm.text, /value="big"/);
    const allowed = await p.hubApi(`/users/${carol}/server`, {
      method: "POST",
      token: tokens[carol],
      body: { profile: "big" },
    });
    assert.ok(
      [201, 202].includes(allowed.status),
      `carol's big spawn answered ${allowed.status}: ${allowed.text}`,
    );
    const carolServer = await waitReady(carol);
    assert.equal(carolServer.user_options?.profile, "big");
    if (cgroupsWritable()) {
      const state = (await userModel(carol)).servers?.[""]?.state;
      const memDir = state?.atrium_cgroup?.dirs?.memory;
      assert.ok(memDir, `no memory cgroup recorded for carol: ${JSON.stringify(state)}`);
      assert.equal(Number(readFileSync(join(memDir, "memory.limit_in_bytes"), "utf8")), BIG_LIMIT);
    }
    await stopServer(carol);
  });

  it("4. a kernel that allocates past the profile's memory limit is killed, the server survives", async (t) => {
    if (!cgroupsWritable()) {
      t.skip("/sys/fs/cgroup/memory is not writable here");
      return;
    }
    assert.ok(kernel, "test 2 did not leave a kernel");
    const alice = names.alice;
    const state = (await userModel(alice)).servers?.[""]?.state;
    assert.equal(state?.pid, aliceServerPid);
    const expectedPath = `/atrium/${p.project}/users/${alice}`;
    assert.equal(cgroupOf(aliceServerPid, "memory"), expectedPath);
    assert.equal(cgroupOf(aliceServerPid, "cpu"), expectedPath);
    const memDir = `/sys/fs/cgroup/memory${expectedPath}`;
    assert.equal(state?.atrium_cgroup?.dirs?.memory, memDir);
    assert.equal(Number(readFileSync(join(memDir, "memory.limit_in_bytes"), "utf8")), SMALL_LIMIT);
    const cpuDir = `/sys/fs/cgroup/cpu${expectedPath}`;
    assert.equal(Number(readFileSync(join(cpuDir, "cpu.cfs_quota_us"), "utf8")), 100_000);

    const pidRun = await kernel.execute("import os; print(os.getpid())");
    const kernelPid = Number(pidRun.stdout.trim());
    assert.ok(kernelPid > 0 && kernelPid !== aliceServerPid);
    assert.equal(
      cgroupOf(kernelPid, "memory"),
      expectedPath,
      "the kernel is not in the server's memory cgroup",
    );
    const oomKillsBefore = Number(
      /oom_kill (\d+)/.exec(readFileSync(join(memDir, "memory.oom_control"), "utf8"))?.[1] ?? 0,
    );

    // twice the limit; a kernel that is not limited prints "survived"
    const hog = await kernel.execute(memoryHogCell(2 * SMALL_LIMIT), 180_000);
    assert.equal(hog.status, "no-reply", `the kernel was not stopped by the limit: ${JSON.stringify(hog)}`);
    assert.ok(!hog.stdout.includes("survived"));
    assert.ok(
      kernel.states.includes("restarting") || kernel.states.includes("dead") || kernel.closed,
      `no sign of the kernel dying; states: ${kernel.states.join(",")}`,
    );
    await waitFor(
      "the old kernel process to be gone",
      () => (pidAlive(kernelPid) ? undefined : true),
      30_000,
    );
    const oomKillsAfter = Number(
      /oom_kill (\d+)/.exec(readFileSync(join(memDir, "memory.oom_control"), "utf8"))?.[1] ?? 0,
    );
    assert.ok(
      oomKillsAfter > oomKillsBefore,
      `the cgroup's OOM killer did not act (${oomKillsBefore} -> ${oomKillsAfter})`,
    );

    // The server lives on, answers through the proxy and the hub still has it ready.
    assert.ok(pidAlive(aliceServerPid), "the server process died with its kernel");
    const api = await p.get(`/user/${alice}/api`, { token: tokens[alice] });
    assert.equal(api.status, 200);
    assert.ok(typeof api.json<{ version: string }>().version === "string");
    assert.equal((await userModel(alice)).servers?.[""]?.ready, true);

    // The kernel came back as a new process, still inside the limit.
    kernel.close();
    kernel = await KernelClient.connect(`${p.url}/user/${alice}`, tokens[alice] ?? "", kernel.id, 120_000);
    const again = await kernel.execute("import os; print(os.getpid())");
    const newPid = Number(again.stdout.trim());
    assert.ok(newPid > 0 && newPid !== kernelPid, `the kernel did not restart (pid ${again.stdout})`);
    assert.equal(cgroupOf(newPid, "memory"), expectedPath);
  });

  it("5. a redeploy after adding a user and a group applies only what changed; servers keep running", async () => {
    const { alice, dave } = names;
    const before = (await userModel(alice)).servers?.[""]?.state?.pid;
    assert.equal(before, aliceServerPid);

    const config = structuredClone(p.config) as ConfigObject & {
      users: ConfigObject[];
      groups: ConfigObject[];
    };
    config.groups.push({ name: groups.viz, description: "Visualisation" });
    config.users.push({ name: dave, groups: [groups.viz] });
    p.writeConfig(config);

    const r = await p.deploy();
    assert.equal(r.code, 0, `redeploy failed:\n${r.stdout}\n${r.stderr}`);
    process.stdout.write(`# redeploy with a new user took ${r.seconds.toFixed(1)}s\n`);
    const applied = appliedComponents(r.stdout);
    for (const c of ["deployed-file", "accounts", "shared-folders", "config-files", "services"]) {
      assert.equal(applied.get(c), "updated", `${c} was not updated:\n${r.stdout}`);
    }
    for (const c of [
      "uv",
      "hub-env",
      "user-env",
      "hub-glue",
      "directories",
      "secrets",
      "launcher",
      "admin-password",
    ]) {
      assert.ok(!applied.has(c), `${c} was applied again:\n${r.stdout}`);
      assert.ok(!new RegExp(`^\\S ${c} `, "m").test(r.stdout), `${c} is listed as a change:\n${r.stdout}`);
    }
    assert.ok(!r.stdout.includes("First login"), "the admin password was printed again");

    const daveUid = Number(idOf(dave, "-u"));
    assert.ok(daveUid > 0);
    assert.equal(fileMode(home(dave)), 0o700);
    const viz = join(p.dirs.shared, groups.viz);
    assert.equal(fileMode(viz), 0o2770);
    assert.equal(statSync(viz).gid, Number(getent("group", groups.viz)?.split(":")[2]));
    assert.equal(readlinkSync(join(home(dave), "shared", groups.viz)), viz);

    pw[dave] = password();
    await p.setPassword(dave, pw[dave]);
    const login = await p.login(dave, pw[dave]);
    assert.equal(login.status, 302, "the new user cannot log in");
    assert.deepEqual((await userModel(dave)).groups, [groups.viz]);

    assert.ok(pidAlive(aliceServerPid), "alice's server was stopped by the redeploy");
    const after = await waitReady(alice, 60_000);
    assert.equal(after.state?.pid, aliceServerPid, "alice's server was replaced");
    const api = await p.get(`/user/${alice}/api`, { token: tokens[alice] });
    assert.equal(api.status, 200);

    const hubPid = readPidFile(hubPidFile());
    const noop = await p.deploy();
    assert.equal(noop.code, 0, noop.stdout + noop.stderr);
    process.stdout.write(`# no-op redeploy took ${noop.seconds.toFixed(2)}s\n`);
    assert.match(noop.stdout, /Deployed in [\d.]+s: 0 create, 0 update, 0 delete, \d+ unchanged/);
    assert.equal(appliedComponents(noop.stdout).size, 0, noop.stdout);
    assert.ok(noop.seconds < 5, `a no-op deploy took ${noop.seconds}s`);
    assert.equal(readPidFile(hubPidFile()), hubPid, "a no-op deploy restarted the hub");
  });

  it("5b. a user's own ~/shared, made a link to a folder she cannot read, never stops a deploy", async () => {
    const { alice } = names;
    const locked = join(p.root, "root-only");
    mkdirSync(locked, { mode: 0o700 });
    writeFileSync(join(locked, "keep"), "root's\n");
    const shared = join(home(alice), "shared");
    renameSync(shared, `${shared}.mine`);
    symlinkSync(locked, shared);
    execFileSync("chown", ["-h", `${idOf(alice, "-u")}:${idOf(alice, "-g")}`, shared]);
    try {
      const config = structuredClone(p.config) as ConfigObject & { users: ConfigObject[] };
      const bob = config.users.find((u) => u.name === names.bob) as ConfigObject & { groups: string[] };
      bob.groups = [...bob.groups, groups.ml];
      p.writeConfig(config);
      const plan = await p.atrium(["plan", "-c", p.configFile]);
      assert.equal(plan.code, 0, plan.stdout + plan.stderr);
      assert.match(
        plan.stdout,
        new RegExp(`! ${alice}'s group links will be skipped: ${shared} is a link, not a folder`),
      );
      const r = await p.deploy();
      assert.equal(r.code, 0, `a user's ~/shared stopped the deploy:\n${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, new RegExp(`skipped ${alice}'s group links: ${shared} is a link`));
      assert.deepEqual(readdirSync(locked), ["keep"], "something was made in the folder ~/shared points at");
      assert.equal(readlinkSync(join(home(names.bob), "shared", groups.ml)), join(p.dirs.shared, groups.ml));
    } finally {
      rmSync(shared, { force: true });
      renameSync(`${shared}.mine`, shared);
      rmSync(locked, { recursive: true, force: true });
    }
    const again = await p.deploy();
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.ok(lstatSync(join(shared, groups.data)).isSymbolicLink(), "alice's links are not back");
  });

  it("6. the supervisor restarts a killed hub; the user's server keeps answering through the proxy", async () => {
    const alice = names.alice;
    const old = readPidFile(hubPidFile());
    assert.ok(old && pidAlive(old), "no running hub pid");
    process.kill(old, "SIGTERM");
    const fresh = await waitFor(
      "a new hub pid",
      () => {
        const pid = readPidFile(hubPidFile());
        return pid !== undefined && pid !== old && pidAlive(pid) ? pid : undefined;
      },
      60_000,
      200,
    );
    assert.notEqual(fresh, old);
    await waitFor("the old hub to exit", () => (pidAlive(old) ? undefined : true), 30_000);
    await waitFor(
      "the hub to answer again",
      async () => ((await p.hubApi("/")).status === 200 ? true : undefined),
      90_000,
    );
    const server = await waitReady(alice, 60_000);
    assert.equal(server.state?.pid, aliceServerPid, "the hub replaced alice's server");
    assert.ok(pidAlive(aliceServerPid));
    const api = await p.get(`/user/${alice}/api`, { token: tokens[alice] });
    assert.equal(api.status, 200, api.text);
    assert.ok(typeof api.json<{ version: string }>().version === "string");
    const status = JSON.parse(readFileSync(join(p.dirs.state, "run", "status.json"), "utf8")) as {
      processes: Array<{ name: string; restarts: number; pid: number }>;
    };
    const hub = status.processes.find((x) => x.name === "hub");
    assert.equal(hub?.pid, fresh);
    assert.ok((hub?.restarts ?? 0) >= 1);
  });

  it("7. atrium status --json shows the proxy, the hub and the user's server", async () => {
    const r = await p.atrium(["status", "-c", p.configFile, "--json"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const st = JSON.parse(r.stdout) as {
      project: string;
      answering: boolean;
      supervisor: { pid: number | null };
      processes: Array<{ name: string; state: string; pid: number | null }>;
      servers: Array<{ user: string; ready: boolean; profile: string | null }> | null;
      limits: { enforced: boolean; mode: string };
    };
    assert.equal(st.project, p.project);
    assert.equal(st.answering, true);
    assert.ok(st.supervisor.pid && pidAlive(st.supervisor.pid));
    for (const name of ["proxy", "hub"]) {
      const proc = st.processes.find((x) => x.name === name);
      assert.equal(proc?.state, "running", `${name}: ${JSON.stringify(proc)}`);
      assert.ok(proc?.pid && pidAlive(proc.pid), `${name} pid is not alive`);
    }
    assert.equal(st.processes.find((x) => x.name === "hub")?.pid, readPidFile(hubPidFile()));
    assert.deepEqual(
      st.servers?.map((s) => ({ user: s.user, ready: s.ready, profile: s.profile })),
      [{ user: names.alice, ready: true, profile: "small" }],
    );
    if (cgroupsWritable())
      assert.deepEqual(
        { enforced: st.limits.enforced, mode: st.limits.mode },
        { enforced: true, mode: "v1" },
      );
  });

  /** Run `atrium ARGS` as a person would: found on PATH, from a folder without atrium.yaml, no -c. */
  function atriumOnPath(args: string[]) {
    return spawnSync("atrium", args, { cwd: "/", env: p.env, encoding: "utf8", timeout: 300_000 });
  }

  it("7b. atrium is on PATH and finds the deployed file: status and logs work without -c", () => {
    assert.equal(readlinkSync(p.links.bin), join(p.dirs.prefix, "bin", "atrium"));
    const copy = join(p.dirs.state, "atrium.yaml");
    assert.equal(readlinkSync(p.links.deployed), copy);
    assert.equal(readFileSync(copy, "utf8"), readFileSync(p.configFile, "utf8"));
    assert.equal(statSync(copy).mode & 0o777, 0o600);
    const status = atriumOnPath(["status"]);
    assert.equal(status.status, 0, `${status.error ?? ""}${status.stdout}${status.stderr}`);
    assert.match(status.stdout, new RegExp(`^platform ${p.project}  ${p.url}  answering$`, "m"));
    const logs = atriumOnPath(["logs", "hub", "-n", "5"]);
    assert.equal(logs.status, 0, logs.stdout + logs.stderr);
    assert.ok(logs.stdout.trim().length > 0, "atrium logs hub printed nothing");
  });

  it("7c. the README's Python examples run as written in a user's kernel, on the quickstart's Dask settings", async () => {
    const quickstart = parse(readFileSync(join(REPO, "examples", "quickstart.yaml"), "utf8")) as ConfigObject;
    assert.deepEqual(
      p.config.dask,
      quickstart.dask,
      "this platform's Dask settings are not the quickstart's",
    );
    const readme = readFileSync(join(REPO, "README.md"), "utf8");
    const snippets = [...readme.matchAll(/^```python\n([\s\S]*?)^```$/gm)].map((m) => m[1] as string);
    assert.ok(snippets.length > 0, "the README has no Python examples");
    const k = await KernelClient.start(`${p.url}/user/${names.alice}`, tokens[names.alice] ?? "", 120_000);
    try {
      for (const [i, code] of snippets.entries()) {
        const r = await k.execute(code, 300_000);
        assert.equal(
          r.status,
          "ok",
          `README Python example ${i + 1} failed: ${r.error?.ename}: ${r.error?.evalue}\n${code}`,
        );
      }
      // The Dask example leaves a client of a cluster with two workers: it must compute.
      const check = await k.execute(
        "client.wait_for_workers(2, timeout=240)\nprint(sum(client.gather(client.map(lambda x: x * x, range(10)))))",
        300_000,
      );
      assert.equal(check.status, "ok", `${check.error?.ename}: ${check.error?.evalue}`);
      assert.equal(check.stdout.trim(), "285");
    } finally {
      await k.execute("if 'cluster' in globals(): cluster.shutdown()", 120_000);
      k.close();
    }
  });

  it("10a. a second deploy while one runs is refused with a clear message", async () => {
    const config = structuredClone(p.config) as ConfigObject & { project: ConfigObject };
    config.project.title = "Atrium e2e, renamed";
    p.writeConfig(config);
    const first = p.startDeploy();
    const lock = join(p.dirs.state, "deploy.lock");
    let firstFinished = false;
    void first.done.then(() => {
      firstFinished = true;
    });
    await waitFor(
      "the first deploy to take the lock",
      async () => {
        if (existsSync(lock)) return true;
        if (firstFinished) {
          const r = await first.done;
          throw new GiveUp(
            `the first deploy ended before it was seen holding the lock (exit ${r.code}):\n${r.stdout}\n${r.stderr}`,
          );
        }
        return undefined;
      },
      60_000,
      20,
    );
    const second = await p.atrium(["deploy", "-c", p.configFile]);
    const firstResult = await first.done;
    assert.equal(
      firstResult.code,
      0,
      `the first deploy failed:\n${firstResult.stdout}\n${firstResult.stderr}`,
    );
    assert.ok(second.code !== 0, `the second deploy was not refused:\n${second.stdout}`);
    assert.match(second.stderr + second.stdout, /another deploy is running \(pid \d+\)/);
    assert.equal(appliedComponents(second.stdout).size, 0, "the refused deploy applied something");
    assert.ok(!existsSync(lock), "the lock was left behind");
  });

  it("10b. an invalid config is reported with located messages and touches nothing", async () => {
    const statePath = join(p.dirs.state, "state.json");
    const stateBefore = readFileSync(statePath, "utf8");
    const mtimeBefore = statSync(statePath).mtimeMs;
    const hubPid = readPidFile(hubPidFile());
    const bad = join(p.root, "bad.yaml");
    const config = structuredClone(p.config) as ConfigObject & {
      target: ConfigObject;
      users: ConfigObject[];
    };
    config.target.prot = 9999;
    (config.users[1] as ConfigObject).nmae = "typo";
    const text = stringify(config);
    writeFileSync(bad, text);
    const lineOf = (key: string) =>
      text.split("\n").findIndex((l) => l.trimStart().startsWith(`${key}:`) || l.includes(` ${key}:`)) + 1;

    const r = await p.atrium(["deploy", "-c", bad]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const out = r.stderr + r.stdout;
    assert.match(
      out,
      new RegExp(
        `^${bad}:${lineOf("prot")}:\\d+  target\\.prot  unknown key "prot"; did you mean "port"\\?$`,
        "m",
      ),
      out,
    );
    assert.match(
      out,
      new RegExp(
        `^${bad}:${lineOf("nmae")}:\\d+  users\\[1\\]\\.nmae  unknown key "nmae"; did you mean "name"\\?$`,
        "m",
      ),
      out,
    );
    assert.equal(readFileSync(statePath, "utf8"), stateBefore, "the state file changed");
    assert.equal(statSync(statePath).mtimeMs, mtimeBefore, "the state file was rewritten");
    assert.equal(readPidFile(hubPidFile()), hubPid, "the hub was restarted");
    assert.ok(!existsSync(join(p.dirs.state, "deploy.lock")));
  });

  it("8. destroy stops everything but keeps data; destroy --purge removes only Atrium's accounts", async () => {
    const { alice } = names;
    kernel?.close();
    kernel = undefined;
    const run = join(p.dirs.state, "run");
    const supervisor = readPidFile(join(run, "supervisor.pid"));
    const hub = readPidFile(join(run, "hub.pid"));
    const proxy = readPidFile(join(run, "proxy.pid"));
    const pids = { supervisor, hub, proxy, "alice's server": aliceServerPid };
    for (const [what, pid] of Object.entries(pids))
      assert.ok(pid && pidAlive(pid), `${what} is not running before destroy`);

    // As the README says it: no -c, from anywhere.
    const r = atriumOnPath(["destroy"]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    // Kept, so that `atrium destroy --purge --yes` works as written after it.
    assert.equal(readlinkSync(p.links.bin), join(p.dirs.prefix, "bin", "atrium"));
    assert.equal(readlinkSync(p.links.deployed), join(p.dirs.state, "atrium.yaml"));
    for (const [what, pid] of Object.entries(pids)) {
      await waitFor(
        `${what} (pid ${pid}) to stop`,
        () => (pidAlive(pid as number) ? undefined : true),
        30_000,
      );
    }
    await assert.rejects(
      fetch(`${p.url}/hub/api`, { signal: AbortSignal.timeout(5000) }),
      "the platform still answers",
    );
    const singleuser = execFileSync("ps", ["-eo", "user:32,args", "--no-headers"], { encoding: "utf8" })
      .split("\n")
      .filter((l) => l.includes("jupyterhub-singleuser") && l.includes(p.id));
    assert.deepEqual(singleuser, [], "user servers are still running");

    const userNames = [names.admin, names.alice, names.bob, names.carol, names.dave];
    for (const u of userNames) {
      assert.ok(getent("passwd", u), `${u} was removed by a plain destroy`);
      assert.ok(existsSync(home(u)), `${u}'s home was removed`);
    }
    assert.ok(existsSync(join(p.dirs.shared, groups.data, "from-kernel.txt")), "shared files were removed");
    assert.ok(existsSync(join(p.dirs.shared, groups.viz)));
    assert.ok(existsSync(join(p.dirs.data, "hub", "jupyterhub.sqlite")), "the hub database was removed");
    assert.ok(existsSync(join(home(alice), "shared", groups.data)));

    const purge = atriumOnPath(["destroy", "--purge", "--yes"]);
    assert.equal(purge.status, 0, purge.stdout + purge.stderr);
    assert.throws(() => lstatSync(p.links.bin), "destroy --purge left the atrium command on PATH");
    assert.throws(() => lstatSync(p.links.deployed), "destroy --purge left the deployed file's link");
    for (const u of userNames) assert.equal(getent("passwd", u), undefined, `${u} survived destroy --purge`);
    for (const g of Object.values(groups))
      assert.equal(getent("group", g), undefined, `group ${g} survived destroy --purge`);
    assert.ok(getent("passwd", names.keep), "destroy --purge removed an account Atrium did not create");
    assert.ok(getent("group", names.keep), "destroy --purge removed a group Atrium did not create");
    assert.ok(!existsSync(join(p.dirs.data, "hub", "jupyterhub.sqlite")));
    assert.ok(!existsSync(p.dirs.prefix));
  });
});
