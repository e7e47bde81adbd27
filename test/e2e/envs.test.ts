/**
 * Managed environments end to end: the environment service behind the hub, real
 * builds with uv as the build account, kernels in real user servers (spawned before
 * the environments existed, so nothing restarts), permissions across users and a
 * group, a failed build, rollback, the command line, the page with hub login, and
 * Dask workers running in a managed environment. A root-only `uv` (a script in a
 * 0700 folder under /root, as a pyenv shim or the official installer's ~/.local/bin)
 * is first on PATH for deploy and so for the supervisor and the service: everything
 * must work with Atrium's own uv and that one must never run.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { stringify } from "yaml";
import type { ApiBuild, ApiEnvironment } from "../../src/contracts/envs-api.js";
import { BuildFailure, buildEnvironment } from "../../src/services/envs/builder.js";
import { lookupAccount } from "../../src/services/envs/service.js";
import { chromiumMissing, launchChromium, logInThroughForm } from "./chromium.js";
import {
  type HttpResult,
  http,
  idOf,
  makePlatform,
  type Platform,
  REPO,
  seedUvCaches,
  spawnServer,
  suiteScope,
  waitFor,
} from "./harness.js";
import { KernelClient } from "./kernel.js";

const ACTIVE = new Set(["QUEUED", "BUILDING"]);
const PASSWORD = "Envs-e2e-password-1";

describe("managed environments", () => {
  let p: Platform;
  let ada = "";
  let alice = "";
  let bob = "";
  let carol = "";
  let team = "";
  let deployOutput = "";
  const tokens: Record<string, string> = {};
  const kernels: KernelClient[] = [];
  let firstBuild = 0;
  let secondBuild = 0;
  const scope = suiteScope(after);

  function api(who: string, method: string, path: string, body?: unknown): Promise<HttpResult> {
    const headers: Record<string, string> = { Authorization: `token ${tokens[who]}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return http(`${p.url}/services/envs/api/v1/${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  async function submit(
    who: string,
    namespace: string,
    name: string,
    specification: string,
  ): Promise<number> {
    const r = await api(who, "POST", "specification/", { namespace, environment_name: name, specification });
    assert.equal(r.status, 200, `${who} submitting ${namespace}/${name}: ${r.status} ${r.text}`);
    return r.json<{ data: { build_id: number } }>().data.build_id;
  }

  /** Wait for a build to end; also says whether its log could be read while it ran. */
  async function finish(who: string, id: number): Promise<{ build: ApiBuild; liveLog: boolean }> {
    let liveLog = false;
    const build = await waitFor(
      `build ${id}`,
      async () => {
        const log = await api(who, "GET", `build/${id}/logs/`);
        if (log.headers.get("x-build-status") === "BUILDING" && log.text.includes("==")) liveLog = true;
        const b = (await api(who, "GET", `build/${id}/`)).json<{ data: ApiBuild }>().data;
        return ACTIVE.has(b.status) ? undefined : b;
      },
      900_000,
      300,
    );
    return { build, liveLog };
  }

  const spawn = (user: string) => spawnServer(p, user, tokens[user]);

  async function kernelspecs(user: string): Promise<string[]> {
    const r = await p.get(`/user/${user}/api/kernelspecs`, { token: tokens[user] });
    assert.equal(r.status, 200, r.text);
    return Object.keys(r.json<{ kernelspecs: Record<string, unknown> }>().kernelspecs).sort();
  }

  async function runIn(user: string, kernel: string | undefined, code: string) {
    const k = await KernelClient.start(`${p.url}/user/${user}`, tokens[user] ?? "", 120_000, kernel);
    kernels.push(k);
    return k.execute(code, 300_000);
  }

  /** Whether `user` can list `path` on disk. */
  function canRead(user: string, path: string): boolean {
    return spawnSync("runuser", ["-u", user, "--", "ls", path], { stdio: "ignore" }).status === 0;
  }

  /** Processes whose command line holds `tag`. */
  function processesWith(tag: string): string[] {
    const found: string[] = [];
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
      try {
        const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ").trim();
        if (cmdline.includes(tag)) found.push(`${entry}: ${cmdline}`);
      } catch {
        // gone meanwhile
      }
    }
    return found;
  }

  /**
   * The attacker's planted source package, in a folder every account can read (below
   * the platform's root, so cleanup kills whatever it started): its setup.py records
   * who ran it, appends code to every cached copy of tabulate (which records who
   * imported it), and leaves a process behind.
   */
  function plantSourcePackage(owner: string): { dir: string; out: string } {
    const dir = join(p.root, "attacker");
    const out = join(dir, "out");
    const src = join(dir, "src", "atrium_e2e_planted-1.0");
    mkdirSync(src, { recursive: true });
    mkdirSync(out, { recursive: true });
    const poison = [
      "",
      "try:",
      `    open(${JSON.stringify(join(out, "imported-by"))}, "w").write(str(__import__("os").getuid()))`,
      "except OSError:",
      "    pass",
      "",
    ].join("\n");
    writeFileSync(
      join(src, "setup.py"),
      [
        "import glob, os, subprocess, sys",
        `open(${JSON.stringify(join(out, "setup-ran-as"))}, "w").write(str(os.getuid()))`,
        `for f in glob.glob(${JSON.stringify(`${join(p.dirs.prefix, "cache")}/**/tabulate/__init__.py`)}, recursive=True):`,
        "    try:",
        `        open(f, "a").write(${JSON.stringify(poison)})`,
        "    except OSError:",
        "        pass",
        "subprocess.Popen(",
        `    [sys.executable, "-c", "import time; time.sleep(900)", ${JSON.stringify(dir)}],`,
        "    start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,",
        ")",
        "from setuptools import setup",
        'setup(name="atrium_e2e_planted", version="1.0")',
        "",
      ].join("\n"),
    );
    execFileSync("tar", ["-czf", join(dir, "atrium_e2e_planted-1.0.tar.gz"), "-C", join(dir, "src"), "."]);
    const uid = Number(idOf(owner, "-u"));
    for (const d of [dir, join(dir, "src"), src]) chownSync(d, uid, uid);
    chmodSync(dir, 0o755);
    chmodSync(out, 0o1777);
    return { dir, out };
  }

  /** What an attack left behind: a list of findings, empty when it left nothing. */
  function traces(planted: { dir: string; out: string }): string[] {
    const found: string[] = [];
    for (const f of ["setup-ran-as", "imported-by"]) {
      const path = join(planted.out, f);
      if (existsSync(path)) found.push(`${f} uid ${readFileSync(path, "utf8")}`);
    }
    for (const proc of processesWith(planted.dir)) found.push(`still running: ${proc}`);
    return found;
  }

  /** A root-only uv first on PATH: it records each call and fails. */
  function rootOnlyUv(): { dir: string; calls: string } {
    const dir = mkdtempSync("/root/atrium-e2e-uv-");
    scope.after(() => rmSync(dir, { recursive: true, force: true }));
    const calls = join(dir, "calls");
    writeFileSync(
      join(dir, "uv"),
      `#!/bin/sh\necho "$*" >>'${calls}'\necho 'a root-only uv on PATH must not be used' >&2\nexit 97\n`,
      { mode: 0o700 },
    );
    return { dir, calls };
  }
  let pathUv = { dir: "", calls: "" };

  before(async () => {
    pathUv = rootOnlyUv();
    p = await makePlatform(scope, {
      pathFirst: [pathUv.dir],
      config: (n) => ({
        users: [
          { name: n.name("ada"), admin: true },
          { name: n.name("alice"), groups: [n.name("team")] },
          { name: n.name("bob") },
          { name: n.name("carol"), groups: [n.name("team")] },
        ],
        groups: [{ name: n.name("team") }],
        environments: [{ name: "tools", dependencies: ["inflection"] }],
        dask: {
          worker_profiles: [{ name: "tiny", cores: 1, memory: "1G", threads: 1 }],
          limits: { max_workers: 2, max_cores: 2, max_memory: "4G" },
        },
        videochat: { enabled: false },
      }),
    });
    [ada, alice, bob, carol, team] = ["ada", "alice", "bob", "carol", "team"].map((s) => p.name(s)) as [
      string,
      string,
      string,
      string,
      string,
    ];
    seedUvCaches(p.dirs.prefix, { build: true });
    const r = await p.deploy();
    deployOutput = `${r.stdout}\n${r.stderr}`;
    assert.equal(r.code, 0, `deploy failed:\n${deployOutput}`);
    for (const u of [ada, alice, bob, carol]) tokens[u] = await p.userToken(u);
    for (const u of [alice, bob, carol]) await spawn(u);
  });

  after(() => {
    for (const k of kernels) k.close();
  });

  it("deploy builds the environments of atrium.yaml and reports each", async () => {
    assert.match(deployOutput, /environments\s+created in [\d.]+s \(global\/tools built \(build \d+\)\)/);
    const r = await p.atrium(["env", "list", "-c", p.configFile]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^global\/tools\s+\d+ completed\s+\d+\s+global\.tools$/m);
    const again = await p.deploy();
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.doesNotMatch(
      again.stdout,
      /environments\s+(created|updated)/,
      "an unchanged environment was rebuilt",
    );
  });

  it("builds a user's environment with one PyPI package, with a live log and a stored lock", async () => {
    firstBuild = await submit(alice, alice, "mine", "name: mine\ndependencies:\n  - pip:\n    - humanize\n");
    const { build, liveLog } = await finish(alice, firstBuild);
    assert.equal(build.status, "COMPLETED", build.status_info ?? "");
    assert.equal(build.current, true);
    assert.ok(liveLog, "the log could not be read while the build ran");
    const log = await api(alice, "GET", `build/${firstBuild}/logs/`);
    assert.match(log.text, /uv pip compile/);
    assert.match(log.text, /humanize==/);
    const lock = await api(alice, "GET", `build/${firstBuild}/lockfile/`);
    assert.equal(lock.status, 200);
    assert.match(lock.text, /^humanize==[\d.]+ \\\n\s+--hash=sha256:[0-9a-f]{64}/m);
    assert.match(lock.text, /^ipykernel==/m);
    const env = (await api(alice, "GET", `environment/${alice}/mine/`)).json<{ data: ApiEnvironment }>().data;
    assert.equal(env.current_build_id, firstBuild);
    // Built by the build account, then handed to root; readable by alice only.
    const envDir = join(p.dirs.envs, alice, "mine", "builds", String(firstBuild), "env");
    assert.equal(statSync(join(envDir, "bin", "dask")).uid, 0);
    assert.ok(canRead(alice, join(p.dirs.envs, alice)));
    assert.ok(!canRead(bob, join(p.dirs.envs, alice)));
  });

  it("shows the kernel in that user's running server only, and runs code importing the package", async () => {
    assert.ok(
      (await kernelspecs(alice)).includes(`${alice}.mine`),
      "alice has no kernel for her environment",
    );
    assert.ok(!(await kernelspecs(bob)).includes(`${alice}.mine`), "bob sees alice's kernel");
    assert.ok(
      (await kernelspecs(bob)).includes("global.tools"),
      "bob has no kernel for the global environment",
    );
    const r = await runIn(
      alice,
      `${alice}.mine`,
      "import humanize, sys\nprint(humanize.intcomma(1234567))\nprint(sys.prefix)",
    );
    assert.equal(r.status, "ok", `${r.error?.ename}: ${r.error?.evalue}\n${r.stderr}`);
    assert.deepEqual(r.stdout.trim().split("\n"), ["1,234,567", join(p.dirs.envs, alice, "mine", "current")]);
    const other = await KernelClient.start(
      `${p.url}/user/${bob}`,
      tokens[bob] ?? "",
      60_000,
      `${alice}.mine`,
    ).then(
      () => "started",
      (err: Error) => err.message,
    );
    // jupyter-server answers an unknown kernel name with 404 or 500, depending on its version
    assert.match(other, /^creating a kernel: [45]\d\d /);
  });

  it("shows a group's environment to its members only", async () => {
    const id = await submit(alice, team, "shared", "tomli\n");
    assert.equal((await finish(alice, id)).build.status, "COMPLETED");
    assert.ok((await kernelspecs(carol)).includes(`${team}.shared`), "carol, a member, has no kernel");
    assert.ok(!(await kernelspecs(bob)).includes(`${team}.shared`), "bob, not a member, has the kernel");
    assert.equal((await api(carol, "GET", `environment/${team}/shared/`)).status, 200);
    const forBob = await api(bob, "GET", `environment/${team}/shared/`);
    assert.equal(forBob.status, 403);
    assert.doesNotMatch(forBob.text, /tomli/);
    const list = (await api(bob, "GET", "environment/")).json<{ data: ApiEnvironment[] }>().data;
    assert.deepEqual(
      list.map((e) => `${e.namespace.name}/${e.name}`),
      ["global/tools"],
    );
    assert.ok(canRead(carol, join(p.dirs.envs, team)));
    assert.ok(!canRead(bob, join(p.dirs.envs, team)));
  });

  it("refuses a non-owner's changes to a user's environment (403) and shows them none of it", async () => {
    for (const who of [bob, carol]) {
      const post = await api(who, "POST", "specification/", {
        namespace: alice,
        environment_name: "mine",
        specification: "six\n",
      });
      assert.equal(post.status, 403, `${who}: ${post.text}`);
      assert.equal(
        (await api(who, "PUT", `environment/${alice}/mine/`, { build_id: firstBuild })).status,
        403,
      );
      assert.equal((await api(who, "DELETE", `environment/${alice}/mine/`)).status, 403);
      for (const path of [
        `build/${firstBuild}/`,
        `build/${firstBuild}/logs/`,
        `build/${firstBuild}/lockfile/`,
      ]) {
        const r = await api(who, "GET", path);
        assert.equal(r.status, 404, `${who} GET ${path}`);
        assert.doesNotMatch(r.text, /humanize/);
      }
      assert.equal((await api(who, "PUT", `build/${firstBuild}/`)).status, 404);
    }
    const env = (await api(alice, "GET", `environment/${alice}/mine/`)).json<{ data: ApiEnvironment }>().data;
    assert.equal(env.current_build_id, firstBuild);
    assert.equal(env.latest_build?.id, firstBuild);
  });

  it("fails a broken spec with its log, keeps the previous build current, and says so in status", async () => {
    const link = join(p.dirs.envs, alice, "mine", "current");
    const before = readlinkSync(link);
    const id = await submit(alice, alice, "mine", "humanize\natrium-e2e-no-such-package\n");
    const { build } = await finish(alice, id);
    assert.equal(build.status, "FAILED");
    assert.equal(
      build.status_info,
      '"atrium-e2e-no-such-package" was not found on PyPI; if it is a conda package, it needs a conda backend, which Atrium does not provide yet',
    );
    const log = await api(alice, "GET", `build/${id}/logs/`);
    assert.match(log.text, /atrium-e2e-no-such-package was not found in the package registry/);
    assert.match(log.text, /BUILD FAILED/);
    assert.equal(readlinkSync(link), before);
    const env = (await api(alice, "GET", `environment/${alice}/mine/`)).json<{ data: ApiEnvironment }>().data;
    assert.equal(env.current_build_id, firstBuild);
    const still = await runIn(alice, `${alice}.mine`, "import humanize\nprint(humanize.intword(2_000_000))");
    assert.equal(still.stdout.trim(), "2.0 million");

    const conda = await api(alice, "POST", "specification/", {
      namespace: alice,
      environment_name: "gpu",
      specification: "dependencies:\n  - python=3\n  - cudatoolkit=11.8\n",
    });
    assert.equal(conda.status, 400);
    assert.match(
      conda.json<{ message: string }>().message,
      /"cudatoolkit" is a conda package .* needs a conda backend/,
    );

    const status = await p.atrium(["status", "-c", p.configFile, "--json"]);
    const report = JSON.parse(status.stdout) as {
      envs: { failed: Array<{ env: string; build: number; current: number | null }> };
      processes: Array<{ name: string; state: string }>;
    };
    assert.deepEqual(report.envs.failed, [
      { env: `${alice}/mine`, build: id, reason: build.status_info, current: firstBuild },
    ]);
    assert.equal(report.processes.find((x) => x.name === "envs")?.state, "running");
  });

  it("rolls back to the previous build from the command line", async () => {
    const id = await submit(alice, alice, "mine", "humanize\ninflection\n");
    secondBuild = id;
    assert.equal((await finish(alice, id)).build.status, "COMPLETED");
    const link = join(p.dirs.envs, alice, "mine", "current");
    assert.equal(readlinkSync(link), join("builds", String(id), "env"));
    const newer = await runIn(
      alice,
      `${alice}.mine`,
      "import inflection\nprint(inflection.camelize('managed_env'))",
    );
    assert.equal(newer.stdout.trim(), "ManagedEnv");

    const r = await p.atrium(["env", "rollback", "mine", "--user", alice, "-c", p.configFile]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stdout.trim(), `${alice}/mine: current is now build ${firstBuild} (was ${id})`);
    assert.equal(readlinkSync(link), join("builds", String(firstBuild), "env"));
    const older = await runIn(
      alice,
      `${alice}.mine`,
      "import humanize\ntry:\n    import inflection\n    print('inflection')\nexcept ImportError:\n    print('no inflection')",
    );
    assert.equal(older.stdout.trim(), "no inflection");

    const list = await p.atrium(["env", "list", "--user", alice, "-c", p.configFile]);
    assert.match(list.stdout, new RegExp(`^${alice}/mine\\s+${id} completed\\s+${firstBuild}\\s`, "m"));
    assert.match(list.stdout, new RegExp(`^${team}/shared\\s`, "m"));
    const bobs = await p.atrium(["env", "list", "--user", bob, "-c", p.configFile]);
    assert.doesNotMatch(bobs.stdout, new RegExp(alice));
  });

  it("creates and logs an environment from the command line for a user", async () => {
    const r = await p.atrium(["env", "create", "cli", "six", "--user", carol, "-c", p.configFile]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /build \d+ completed and is current/);
    const logs = await p.atrium(["env", "logs", "cli", "--user", carol, "-c", p.configFile]);
    assert.match(logs.stdout, /six==/);
    const refused = await p.atrium([
      "env",
      "create",
      `${alice}/x`,
      "six",
      "--user",
      carol,
      "-c",
      p.configFile,
    ]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`namespace "${alice}" is not yours to see`));
  });

  it("serves the page through the hub with hub login, and protects changes with a CSRF token", async () => {
    await p.setPassword(alice, PASSWORD);
    const login = await p.login(alice, PASSWORD);
    let cookie = login.cookie;
    const first = await p.get("/services/envs/", { cookie });
    assert.equal(first.status, 302);
    let location = first.headers.get("location") ?? "";
    assert.match(location, /\/hub\/api\/oauth2\/authorize\?client_id=service-envs/);
    for (let hop = 0; hop < 6 && !location.startsWith("/services/envs/oauth_callback"); hop++) {
      const r = await p.get(location.replace(p.url, ""), { cookie });
      location = r.headers.get("location") ?? "";
      assert.ok(location, `no redirect at hop ${hop}: ${r.status}`);
    }
    const back = await p.get(location, { cookie });
    assert.equal(back.status, 302);
    const session = back.setCookies.find((c) => c.startsWith("atrium-envs-session="))?.split(";")[0] ?? "";
    assert.ok(session, "no session cookie");
    cookie = `${cookie}; ${session}`;
    const page = await p.get("/services/envs/", { cookie });
    assert.equal(page.status, 200);
    assert.match(page.text, /<h1>Environments<\/h1>/);
    const csrf = /<meta name="csrf" content="([0-9a-f]+)">/.exec(page.text)?.[1] ?? "";
    assert.ok(csrf);
    const list = await http(`${p.url}/services/envs/api/v1/environment/`, { headers: { Cookie: cookie } });
    assert.deepEqual(
      list.json<{ data: ApiEnvironment[] }>().data.map((e) => `${e.namespace.name}/${e.name}`),
      // sorted by namespace, then name, as conda-store does
      [`${alice}/mine`, `${team}/shared`, "global/tools"],
    );
    const put = (headers: Record<string, string>) =>
      http(`${p.url}/services/envs/api/v1/environment/${alice}/mine/`, {
        method: "PUT",
        headers: { Cookie: cookie, "Content-Type": "application/json", ...headers },
        body: JSON.stringify({ description: "from the page" }),
      });
    assert.equal((await put({})).status, 403);
    assert.equal((await put({ "X-CSRF-Token": csrf })).status, 200);
    assert.equal((await http(`${p.url}/services/envs/api/v1/environment/`)).status, 401);
  });

  it("runs Dask workers in a managed environment, offered to its users only", async () => {
    const cell = [
      "from dask_gateway import Gateway",
      "g = Gateway()",
      "opts = g.cluster_options()",
      "opts.worker_profile = 'tiny'",
      "try:",
      `    opts.environment = ${JSON.stringify(`${alice}/mine`)}`,
      "except ValueError:",
      "    print('not offered')",
      "else:",
      "    cluster = g.new_cluster(opts)",
      "    cluster.scale(1)",
      "    client = cluster.get_client()",
      "    client.wait_for_workers(1, timeout=240)",
      "    print(client.submit(lambda: __import__('humanize').intcomma(1000000)).result())",
      "    print(list(client.run(lambda: __import__('sys').prefix).values())[0])",
      "    client.close()",
      "    cluster.shutdown()",
      "try:",
      "    import humanize",
      "    print('humanize in the kernel')",
      "except ImportError:",
      "    print('no humanize in the kernel')",
    ].join("\n");
    const r = await runIn(alice, undefined, cell);
    assert.equal(r.status, "ok", `${r.error?.ename}: ${r.error?.evalue}\n${r.stderr}`);
    // Workers run the current build (the one rolled back to), whose scripts name its own Python.
    assert.deepEqual(r.stdout.trim().split("\n"), [
      "1,000,000",
      join(p.dirs.envs, alice, "mine", "builds", String(firstBuild), "env"),
      "no humanize in the kernel",
    ]);
    const other = await runIn(bob, undefined, cell);
    assert.equal(other.status, "ok", `${other.error?.ename}: ${other.error?.evalue}`);
    assert.equal(other.stdout.trim().split("\n")[0], "not offered");
  });
  it("takes a group's rights away from a member the file removes, at the next deploy", async () => {
    assert.equal((await api(carol, "GET", `environment/${team}/shared/`)).status, 200);
    const users = p.config.users as Array<{ name: string; groups?: string[] }>;
    const entry = users.find((u) => u.name === carol);
    assert.ok(entry);
    entry.groups = [];
    p.writeConfig();
    const r = await p.deploy();
    assert.equal(r.code, 0, `redeploy failed:\n${r.stdout}\n${r.stderr}`);
    // Right after deploy returns, with the token she already had.
    assert.equal((await api(carol, "GET", `environment/${team}/shared/`)).status, 403);
    const edit = await api(carol, "POST", "specification/", {
      namespace: team,
      environment_name: "after-removal",
      specification: "six\n",
    });
    assert.equal(edit.status, 403, edit.text);
    await waitFor(
      "the group's kernel to leave carol's server",
      async () => (!(await kernelspecs(carol)).includes(`${team}.shared`) ? true : undefined),
      15_000,
      500,
    );
    assert.ok(!canRead(carol, join(p.dirs.envs, team)));
    assert.equal(
      (await api(alice, "GET", `environment/${team}/shared/`)).status,
      200,
      "alice is still a member",
    );
  });

  it("works in a browser: the page lists, shows a log and switches the active build", {
    skip: chromiumMissing,
  }, async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      page.setDefaultTimeout(60_000);
      const problems: string[] = [];
      page.on("pageerror", (err) => problems.push(err.message));
      page.on("console", (m) => {
        if (m.type() === "error") problems.push(m.text());
      });
      await logInThroughForm(page, p.url, alice, PASSWORD);
      await page.goto(`${p.url}/services/envs/`);
      const row = page.locator("#envs tr", { hasText: alice });
      await row.locator("a", { hasText: "mine" }).click();
      await page.locator("#detail h2", { hasText: `${alice}/mine` }).waitFor();
      await page.locator("#log", { hasText: "== resolving" }).waitFor();
      const make = page
        .locator("#detail tbody tr")
        .filter({ has: page.locator("td:first-child", { hasText: new RegExp(`^${secondBuild}$`) }) })
        .locator("button", { hasText: "Make current" });
      await make.click();
      await page.locator("#message", { hasText: `Build ${secondBuild} is now current.` }).waitFor();
      const env = (await api(alice, "GET", `environment/${alice}/mine/`)).json<{ data: ApiEnvironment }>()
        .data;
      assert.equal(env.current_build_id, secondBuild);
      mkdirSync(join(REPO, "test-artifacts"), { recursive: true });
      await page.screenshot({ path: join(REPO, "test-artifacts", "environments.png") });
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
    }
  });
  it("refuses a pip entry that smuggles uv options on new lines; the planted package never runs", async () => {
    // The attacker first builds an environment of her own with tabulate, so that it is cached.
    const own = await submit(bob, bob, "tab", "name: tab\ndependencies:\n  - pip:\n    - tabulate\n");
    assert.equal((await finish(bob, own)).build.status, "COMPLETED");
    const planted = plantSourcePackage(bob);
    const entry = [
      "tabulate",
      "--no-binary atrium-e2e-planted",
      `--find-links ${planted.dir}`,
      "atrium-e2e-planted",
    ].join("\n");
    const r = await api(bob, "POST", "specification/", {
      namespace: bob,
      environment_name: "planted",
      specification: stringify({ name: "planted", dependencies: [{ pip: [entry] }] }),
    });
    if (r.status === 200) await finish(bob, r.json<{ data: { build_id: number } }>().data.build_id);
    assert.deepEqual(traces(planted), [], "the planted package ran during the build");
    assert.equal(r.status, 400, r.text);
    assert.match(
      r.json<{ message: string }>().message,
      /dependencies\[0\]\.pip\[0\]: "tabulate\\n--no-binary atrium-e2e-planted.*" is not one requirement/,
    );
  });

  it("refuses -r FILE inside a requirement, so no file the build account reads reaches a lock", async () => {
    const theirs = join(p.dirs.envs, alice, "mine", "builds", String(firstBuild), "requirements.in");
    assert.ok(existsSync(theirs), theirs);
    assert.ok(!canRead(bob, theirs), "bob can read alice's requirements anyway");
    for (const specification of [
      stringify({ name: "pulled", dependencies: [{ pip: [`six\n-r ${theirs}`] }] }),
      stringify([`six\n-r ${theirs}`]),
    ]) {
      const r = await api(bob, "POST", "specification/", {
        namespace: bob,
        environment_name: "pulled",
        specification,
      });
      if (r.status === 200) {
        const id = r.json<{ data: { build_id: number } }>().data.build_id;
        await finish(bob, id);
        const lock = await api(bob, "GET", `build/${id}/lockfile/`);
        assert.ok(
          !lock.text.includes("humanize=="),
          `alice's requirements reached bob's lock:\n${lock.text.slice(0, 300)}`,
        );
      }
      assert.equal(r.status, 400, r.text);
      assert.match(r.json<{ message: string }>().message, /is not one requirement/);
    }
  });

  it("builds the victim's environment with nothing of the attacker's after an attempted cache poisoning", async () => {
    const planted = { dir: join(p.root, "attacker"), out: join(p.root, "attacker", "out") };
    const id = await submit(alice, team, "report", "name: report\ndependencies:\n  - pip:\n    - tabulate\n");
    const { build } = await finish(alice, id);
    assert.equal(build.status, "COMPLETED", build.status_info ?? "");
    const python = join(p.dirs.envs, team, "report", "current", "bin", "python");
    const imported = spawnSync(
      "runuser",
      ["-u", alice, "--", python, "-c", "import tabulate; print(tabulate.__file__)"],
      {
        encoding: "utf8",
      },
    );
    assert.equal(imported.status, 0, imported.stderr);
    const installed = readFileSync(imported.stdout.trim(), "utf8");
    assert.deepEqual(traces(planted), [], "the attacker's code ran");
    assert.doesNotMatch(installed, /imported-by/, "the victim's tabulate carries the attacker's code");
  });

  it("leaves no process of a build running once the build has ended", async () => {
    const account = await lookupAccount("atrium-build");
    assert.ok(account, "no build account");
    const dir = join(p.root, "fake-build");
    mkdirSync(dir, { mode: 0o755 });
    const tag = join(dir, "lingering");
    // A uv that leaves a process in its own session behind, as a build backend could.
    const uv = join(dir, "uv");
    writeFileSync(
      uv,
      `#!/bin/sh\nsetsid /usr/bin/python3 -c 'import time; time.sleep(900)' ${tag} </dev/null >/dev/null 2>&1 &\necho "error: planted" >&2\nexit 1\n`,
      { mode: 0o755 },
    );
    const inputs = {
      dir,
      requirements: ["six"],
      constraints: [],
      uv,
      python: "/usr/bin/python3",
      cacheDir: join(dir, "cache"),
      account,
      passEnv: {},
      log: () => {},
      signal: new AbortController().signal,
      cgroup: { v1Root: "/sys/fs/cgroup", parent: `atrium/${p.project}/builds`, name: "e2e-lingering" },
    };
    await assert.rejects(buildEnvironment(inputs as Parameters<typeof buildEnvironment>[0]), BuildFailure);
    await new Promise((ok) => setTimeout(ok, 500));
    assert.deepEqual(processesWith(tag), [], "a process of the build outlived it");
  });

  it("used Atrium's own pinned uv everywhere, never the root-only uv first on PATH", () => {
    assert.equal(statSync(pathUv.dir).mode & 0o777, 0o700);
    const service = readFileSync(join(p.dirs.state, "run", "envs.pid"), "utf8").trim();
    const path = readFileSync(`/proc/${service}/environ`, "utf8")
      .split("\0")
      .find((e) => e.startsWith("PATH="));
    assert.ok(
      path?.startsWith(`PATH=${pathUv.dir}:`),
      `the service's ${path} does not start with the root-only uv`,
    );
    assert.ok(
      !existsSync(pathUv.calls),
      `the uv on PATH was run: ${existsSync(pathUv.calls) ? readFileSync(pathUv.calls, "utf8") : ""}`,
    );
    const lock = readFileSync(join(REPO, "envs", "tools", "requirements.lock"));
    const hash = createHash("sha256").update(lock).digest("hex").slice(0, 16);
    assert.equal(readlinkSync(join(p.dirs.prefix, "tools")), `tools-${hash}`);
    const pinned = /^uv==([\d.]+)/m.exec(lock.toString())?.[1];
    const version = spawnSync(join(p.dirs.prefix, "tools", "bin", "uv"), ["--version"], { encoding: "utf8" });
    assert.match(version.stdout, new RegExp(`^uv ${pinned?.replaceAll(".", "\\.")}[ \n]`));
  });
});
