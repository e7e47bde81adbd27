/**
 * Crash safety of deploy: `atrium deploy` is killed with SIGKILL at many points of
 * a first deploy and of redeploys (after fixed times, and at moments read from its
 * own progress lines), and each time the next deploy must finish the job: exit 0,
 * `atrium plan` all `same`, the rendered config identical to a fresh render, one
 * copy of each process, the hub answering and users logging in. Files in a home, a
 * group folder and the user env, the hub database (user list and SQLite's
 * integrity check) and a running user server survive every kill. Accounts created
 * by a killed deploy are still known as Atrium's, so `destroy --purge` removes them.
 *
 * Only the deploy process is killed, as `kill -9 <pid>` or the OOM killer would:
 * programs it started (uv, useradd, the supervisor) run on.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  hubDbIntegrity,
  hubDbUsers,
  pidFile,
  pidsWhere,
  readPid,
  runAs,
  type ServerModel,
  serverPid,
  shAs,
  sha256,
  spawnServer,
  userModel,
} from "./checks.js";
import {
  ATRIUM,
  type CommandResult,
  type ConfigObject,
  getent,
  makePlatform,
  type Platform,
  pidAlive,
  runCommand,
  suiteScope,
  waitFor,
} from "./harness.js";

/** When to kill: `ms` after the start, or `delayMs` after a progress line matching `line` appears. */
interface KillPoint {
  label: string;
  ms?: number;
  line?: RegExp;
  delayMs?: number;
  /** Run the deploy with --verbose, for detail lines (e.g. "user X created"). */
  verbose?: boolean;
}

interface Killed {
  point: string;
  /** Seconds from the start of the deploy to the kill. */
  at: number;
  /** The deploy's last progress line before the kill. */
  lastLine: string;
}

const line = (component: string, kind: "+" | "~") =>
  new RegExp(`^${kind === "+" ? "\\+" : "~"} ${component} `, "m");
const doneLine = (component: string) => new RegExp(`^ {2}${component}\\s+(created|updated) in`, "m");

function password(): string {
  return `pw-${randomBytes(9).toString("hex")}`;
}

describe("deploy killed with SIGKILL is completed by the next deploy", () => {
  const scope = suiteScope(after);
  let p: Platform;
  let admin = "";
  let ann = "";
  let team = "";
  let annPw = "";
  const killed: Killed[] = [];
  /** Files written before the redeploys, by path: their sha256. */
  const files = new Map<string, string>();
  let dbUsers: string[] = [];
  let annServer = 0;
  let annToken = "";
  /** Users added by the redeploy variants, in order. */
  const added: string[] = [];

  /** Start a deploy, kill it at `point`, and check it really was killed there. */
  async function deployKilledAt(point: KillPoint): Promise<void> {
    const run = point.verbose
      ? runCommand(process.execPath, [ATRIUM, "deploy", "-c", p.configFile, "--verbose"], {
          timeoutMs: 900_000,
          env: p.env,
        })
      : p.startDeploy();
    const started = Date.now();
    let out = "";
    let fired = false;
    await new Promise<void>((ok, fail) => {
      const fire = (delay: number) => {
        if (fired) return;
        fired = true;
        setTimeout(() => {
          run.child.kill("SIGKILL");
          killed.push({
            point: point.label,
            at: (Date.now() - started) / 1000,
            lastLine:
              out
                .trimEnd()
                .split("\n")
                .filter((l) => l.trim() !== "")
                .pop() ?? "(no output yet)",
          });
          ok();
        }, delay);
      };
      if (point.ms !== undefined) setTimeout(() => fire(0), point.ms);
      run.child.stdout?.on("data", (chunk: string) => {
        out += chunk;
        if (point.line?.test(out)) fire(point.delayMs ?? 0);
      });
      void run.done.then((r) => {
        if (!fired)
          fail(
            new Error(`the deploy ended (exit ${r.code}) before "${point.label}":\n${r.stdout}\n${r.stderr}`),
          );
      });
    });
    const r = await run.done;
    assert.equal(
      r.code,
      null,
      `the deploy finished (exit ${r.code}) before it was killed at "${point.label}":\n${r.stdout}${r.stderr}`,
    );
    // Whatever the moment, the state file is whole: it is replaced, never half-written.
    const state = join(p.dirs.state, "state.json");
    if (existsSync(state))
      assert.doesNotThrow(() => JSON.parse(readFileSync(state, "utf8")), "state.json is torn");
  }

  /** The next deploy, run to the end: it must succeed. */
  async function deployToEnd(after: string): Promise<CommandResult> {
    const r = await p.deploy();
    assert.equal(r.code, 0, `the deploy after "${after}" failed:\n${r.stdout}\n${r.stderr}`);
    return r;
  }

  /** What an uninterrupted deploy leaves behind, checked after every recovery. */
  async function assertConverged(after: string): Promise<void> {
    const plan = await p.atrium(["plan", "-c", p.configFile, "--json"]);
    assert.equal(plan.code, 0, plan.stdout + plan.stderr);
    const changes = (JSON.parse(plan.stdout) as { changes: Array<{ component: string; kind: string }> })
      .changes;
    const notSame = changes.filter((c) => c.kind !== "same");
    assert.deepEqual(notSame, [], `after "${after}", plan still has changes`);

    const check = await p.atrium(["render", "-c", p.configFile, "-o", join(p.dirs.prefix, "etc"), "--check"]);
    assert.equal(
      check.code,
      0,
      `after "${after}", the config on disk differs from a fresh render:\n${check.stdout}`,
    );
    assert.ok(!existsSync(join(p.dirs.state, "deploy.lock")), "a finished deploy left its lock");

    for (const env of ["hub", "user"]) {
      const link = join(p.dirs.prefix, "venvs", env);
      assert.ok(existsSync(join(link, ".atrium-complete")), `${link} does not point at a complete build`);
    }

    // Exactly one of each: no second supervisor, hub or proxy started by a resumed deploy.
    const supervisors = pidsWhere((c) => c.includes(` supervise --spec ${p.dirs.state}/run/`));
    assert.equal(supervisors.length, 1, `supervisors: ${supervisors.join(", ")}`);
    assert.equal(readPid(pidFile(p, "supervisor")), supervisors[0]);
    const hubs = pidsWhere((c) => c.includes(`jupyterhub -f ${p.dirs.prefix}/etc/`));
    assert.equal(hubs.length, 1, `hub processes: ${hubs.join(", ")}`);
    const proxies = pidsWhere(
      (c) => c.includes("configurable-http-proxy") && c.includes(` --port ${p.port} `),
    );
    assert.equal(proxies.length, 1, `proxy processes: ${proxies.join(", ")}`);
    const status = JSON.parse(readFileSync(join(p.dirs.state, "run", "status.json"), "utf8")) as {
      processes: Array<{ name: string; state: string; pid: number | null }>;
    };
    for (const proc of status.processes) {
      assert.equal(proc.state, "running", `after "${after}": ${JSON.stringify(proc)}`);
      assert.ok(proc.pid && pidAlive(proc.pid), `${proc.name}'s pid ${proc.pid} is not alive`);
    }

    for (const u of [admin, ann, ...added]) {
      assert.ok(getent("passwd", u), `account ${u} is missing`);
      assert.equal(statSync(join(p.dirs.home, u)).mode & 0o777, 0o700, `${u}'s home mode`);
    }
    const shared = join(p.dirs.shared, team);
    assert.equal(statSync(shared).mode & 0o7777, 0o2770);
    for (const u of [ann, ...added]) {
      assert.ok(existsSync(join(p.dirs.home, u, "shared", team)), `${u} has no link to the group folder`);
    }

    const api = await p.hubApi("/");
    assert.equal(api.status, 200, `the hub does not answer after "${after}"`);
    const adminPw = readFileSync(join(p.dirs.data, "secrets", `initial-password-${admin}`), "utf8").trim();
    const adminLogin = await p.login(admin, adminPw);
    assert.equal(adminLogin.status, 302, `after "${after}" the admin can't log in with the kept password`);
    if (annPw) {
      const login = await p.login(ann, annPw);
      assert.equal(login.status, 302, `after "${after}" ${ann} can't log in`);
      const home = await p.get("/hub/home", { cookie: login.cookie });
      assert.equal(home.status, 200);
    }
  }

  before(async () => {
    p = await makePlatform(scope, {
      config: (n) => ({
        groups: [{ name: n.name("team") }, { name: n.name("ops") }],
        users: [
          { name: n.name("admin"), admin: true, groups: [n.name("ops")] },
          { name: n.name("ann"), groups: [n.name("team")] },
          { name: n.name("ben"), groups: [n.name("team")] },
        ],
      }),
    });
    admin = p.name("admin");
    ann = p.name("ann");
    team = p.name("team");
  });

  it("a first deploy killed at 8 points, each time resumed, ends as an uninterrupted one", async () => {
    const points: KillPoint[] = [
      { label: "0.3 s after start", ms: 300 },
      { label: "1 s after start", ms: 1000 },
      { label: "2 s after start (hub env building)", ms: 2000 },
      { label: "right after hub-env is recorded", line: doneLine("hub-env") },
      { label: "4 s into the user env build", line: line("user-env", "+"), delayMs: 4000 },
      {
        label: "right after the first account is created",
        line: /^ {4}user \S+ created$/m,
        verbose: true,
      },
      { label: "while the first admin's password is set", line: line("admin-password", "+"), delayMs: 200 },
      {
        label: "0.3 s after the supervisor is started",
        line: /supervisor started \(pid \d+\)/,
        delayMs: 300,
        verbose: true,
      },
    ];
    for (const point of points) await deployKilledAt(point);
    const r = await deployToEnd("the last kill of the first deploy");
    process.stdout.write(`# first deploy, killed ${points.length} times:\n`);
    for (const k of killed)
      process.stdout.write(`#   ${k.point}: killed at ${k.at.toFixed(1)} s, after "${k.lastLine.trim()}"\n`);
    process.stdout.write(`#   resumed and finished in ${r.seconds.toFixed(1)} s\n`);
    await assertConverged("the first deploy's kills");
  });

  it("puts files in a home, a group folder, and notes the hub database before the redeploys", async () => {
    annPw = password();
    await p.setPassword(ann, annPw);
    const login = await p.login(ann, annPw);
    assert.equal(login.status, 302);
    const homeFile = join(p.dirs.home, ann, "notes", "results.bin");
    const groupFile = join(p.dirs.shared, team, "dataset.bin");
    for (const file of [homeFile, groupFile]) {
      const r = shAs(ann, 'mkdir -p "$(dirname "$1")" && head -c 1048576 /dev/urandom > "$1"', file);
      assert.equal(r.code, 0, r.stderr);
      files.set(file, sha256(readFileSync(file)));
    }
    annToken = await p.userToken(ann);
    const server: ServerModel = await spawnServer(p, ann, annToken);
    assert.ok(server.ready);
    annServer = await serverPid(p, ann);
    dbUsers = hubDbUsers(p);
    assert.ok(dbUsers.includes(ann) && dbUsers.includes(admin), `hub users: ${dbUsers.join(", ")}`);
    assert.equal(hubDbIntegrity(p), "ok");
  });

  it("redeploys killed at 8 points are each completed by the next deploy", async () => {
    const points: KillPoint[] = [
      { label: "0.3 s after start", ms: 300 },
      { label: "1 s after start", ms: 1000 },
      // a redeploy can finish in under 4 s: the later kills are at its own steps, not at fixed times
      { label: "when the config files start", line: line("config-files", "~") },
      { label: "0.5 s into the services", line: line("services", "~"), delayMs: 500 },
      { label: "right after a new account is created", line: /^ {4}user \S+ created$/m, verbose: true },
      { label: "when the shared folders start", line: line("shared-folders", "~") },
      { label: "when the services start", line: line("services", "~") },
      // the services step of a redeploy can take under 3 s: kill well inside it
      { label: "1.5 s into the services (hub restarting)", line: line("services", "~"), delayMs: 1500 },
    ];
    const before = killed.length;
    for (const [i, point] of points.entries()) {
      // Each round changes the file: a user (two, for the account kill) joins the team,
      // which changes accounts, shared folders, the hub's config and so the hub.
      const config = structuredClone(p.config) as ConfigObject & { users: ConfigObject[] };
      const newcomers = point.verbose ? [p.name(`r${i}a`), p.name(`r${i}b`)] : [p.name(`r${i}`)];
      for (const u of newcomers) config.users.push({ name: u, groups: [team] });
      p.writeConfig(config);
      added.push(...newcomers);
      await deployKilledAt(point);
      const r = await deployToEnd(point.label);
      const k = killed.at(-1);
      process.stdout.write(
        `# redeploy killed ${point.label} (at ${k?.at.toFixed(1)} s, after "${k?.lastLine.trim()}"); next deploy ${r.seconds.toFixed(1)} s\n`,
      );
      await assertConverged(point.label);
      assert.equal(await serverPid(p, ann), annServer, `${ann}'s server was replaced after "${point.label}"`);
    }
    assert.equal(killed.length - before, points.length);
  });

  it("kept every file, the hub database and the user's server through all kills", async () => {
    for (const [file, hash] of files) {
      assert.equal(sha256(readFileSync(file)), hash, `${file} changed`);
      assert.equal(runAs(ann, ["cat", file]).code, 0, `${ann} can no longer read ${file}`);
    }
    assert.equal(hubDbIntegrity(p), "ok");
    const users = hubDbUsers(p);
    for (const u of dbUsers) assert.ok(users.includes(u), `${u} is gone from the hub database`);
    for (const u of added) assert.ok(users.includes(u), `${u} never reached the hub database`);

    assert.ok(pidAlive(annServer), `${ann}'s server died`);
    const model = await userModel(p, ann);
    assert.equal(model.servers?.[""]?.ready, true);
    const api = await p.get(`/user/${ann}/api`, { token: annToken });
    assert.equal(api.status, 200, `${ann}'s server does not answer through the proxy`);

    // The user env still imports as the user.
    const py = join(p.dirs.prefix, "venvs", "user", "bin", "python");
    const imp = runAs(ann, [py, "-c", "import jupyterlab, dask, numpy; print('ok')"]);
    assert.equal(imp.stdout.trim(), "ok", imp.stderr);
  });

  it("destroy --purge removes every account the killed deploys created", async () => {
    const ours = [admin, ann, p.name("ben"), ...added];
    const groups = [team, p.name("ops")];
    const r = await p.atrium(["destroy", "--purge", "--yes", "-c", p.configFile]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const leftUsers = ours.filter((u) => getent("passwd", u) !== undefined);
    const leftGroups = groups.filter((g) => getent("group", g) !== undefined);
    assert.deepEqual(
      { users: leftUsers, groups: leftGroups },
      { users: [], groups: [] },
      "accounts created by a killed deploy are no longer known as Atrium's",
    );
    await waitFor(
      "the supervisor to stop",
      () => (pidsWhere((c) => c.includes(p.root)).length === 0 ? true : undefined),
      30_000,
    );
  });
});
