/**
 * `destroy` and `destroy --purge` on the team example, with everything a team has
 * running: a server with a kernel and a terminal, a Dask cluster and an open SSH
 * session (and a process that session left behind). Plain destroy stops all of it;
 * purge (also one killed half-way and run again) leaves the machine as it was
 * before the first deploy (accounts, the platform's folders, cgroups, processes,
 * listening ports), except the documented shared build account; and a deploy
 * straight after a purge works again, Dask included.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pidsWhere, stopServer, userModel } from "./checks.js";
import {
  ATRIUM,
  type CommandResult,
  exampleConfig,
  makePlatform,
  type Platform,
  runCommand,
  seedUvCaches,
  spawnServer,
  strayPids,
  suiteScope,
  waitFor,
} from "./harness.js";
import { KernelClient } from "./kernel.js";
import { SSH_BY_PASSWORD, SSH_QUIET } from "./ssh-options.js";

interface Snapshot {
  passwd: string[];
  group: string[];
  folders: string[];
  cgroups: string[];
  ports: number[];
}

/** Every path below `dir` (itself included), or nothing when it is not there. */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out = [dir];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    out.push(...(e.isDirectory() && !e.isSymbolicLink() ? tree(join(dir, e.name)) : [join(dir, e.name)]));
  }
  return out;
}

/**
 * The lines of /etc/passwd or /etc/group that are this platform's: every name in its
 * file has its prefix, and homes are below its root. (Other tests on the machine add
 * and remove their own accounts meanwhile, and may get an id this platform had; the
 * shared build account, which destroy keeps on purpose, is neither.)
 */
function accountLines(db: "/etc/passwd" | "/etc/group", p: Platform): string[] {
  return readFileSync(db, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .filter((l) => {
      const [name = "", , , , , home = ""] = l.split(":");
      return name.startsWith(`${p.id}_`) || home.startsWith(`${p.root}/`);
    })
    .sort();
}

function listeningPortsNow(): number[] {
  return execFileSync("ss", ["-Hltn"], { encoding: "utf8" })
    .split("\n")
    .map((l) => Number(l.trim().split(/\s+/)[3]?.split(":").pop()))
    .filter((n) => Number.isInteger(n) && n > 0);
}

function snapshot(p: Platform): Snapshot {
  return {
    passwd: accountLines("/etc/passwd", p),
    group: accountLines("/etc/group", p),
    folders: Object.values(p.dirs).flatMap(tree).sort(),
    cgroups: ["memory", "cpu"].flatMap((c) => tree(`/sys/fs/cgroup/${c}/atrium/${p.project}`)).sort(),
    ports: listeningPortsNow(),
  };
}

/** The ports the platform's processes listen on now (from ss, by pid). */
function portsOf(pids: number[]): number[] {
  const wanted = new Set(pids);
  return execFileSync("ss", ["-Hltnp"], { encoding: "utf8" })
    .split("\n")
    .filter((l) => [...l.matchAll(/pid=(\d+),/g)].some((m) => wanted.has(Number(m[1]))))
    .map((l) => Number(l.trim().split(/\s+/)[3]?.split(":").pop()))
    .filter((n) => Number.isInteger(n) && n > 0);
}

function ownerOf(pid: number): number | undefined {
  try {
    return Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
  } catch {
    return undefined;
  }
}

function uidOf(name: string): number {
  return Number(execFileSync("id", ["-u", name], { encoding: "utf8" }).trim());
}

function readOr(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** The pids that still run (not gone, not a zombie waiting to be reaped). */
function alive(pids: number[]): number[] {
  return pids.filter((pid) => /\) [^Z] /.test(readOr(`/proc/${pid}/stat`)));
}

describe("destroy and destroy --purge on the team example", () => {
  const scope = suiteScope(after);
  let p: Platform;
  let before0: Snapshot;
  let admin = "";
  let user = "";
  /** uids the platform's accounts had (they are gone after a purge). */
  const uids = new Set<number>();
  /** Every port a platform process listened on at some point. */
  const usedPorts = new Set<number>();
  let tokenDir = "";
  const open: Array<{ child: ChildProcess; done: Promise<CommandResult> }> = [];
  const kernels: KernelClient[] = [];

  const deploy = async () => {
    const r = await p.deploy();
    assert.equal(r.code, 0, `deploy failed:\n${r.stdout}\n${r.stderr}`);
    for (const name of [admin, user]) uids.add(uidOf(name));
    for (const name of [admin, user])
      uids.add(Number(execFileSync("id", ["-g", name], { encoding: "utf8" })));
    return r;
  };

  const purge = () => p.atrium(["destroy", "--purge", "--yes", "-c", p.configFile]);

  /** The live pids of the platform: its users' processes and whatever runs below its root. */
  const platformPids = () => alive(strayPids(p.root, uids));

  /** No platform process is left (one that was just killed may take a moment to be reaped). */
  const assertNoPlatformProcess = async () => {
    const left = await waitFor(
      "the platform's processes to be gone",
      () => (platformPids().length === 0 ? [] : undefined),
      10_000,
      200,
    ).catch(() =>
      platformPids().map((pid) => `${pid}: ${readOr(`/proc/${pid}/cmdline`).replaceAll("\0", " ")}`),
    );
    assert.deepEqual(left, [], "processes of the platform are still running");
  };

  /**
   * A server with a kernel and a terminal, a Dask cluster with a worker, an open SSH
   * session and a process it left running; returns their pids by what they are.
   */
  async function startEverything(): Promise<Record<string, number[]>> {
    const token = await p.userToken(user);
    // left running by a test that failed before destroying
    if (Object.keys((await userModel(p, user)).servers ?? {}).length > 0) await stopServer(p, user);
    await spawnServer(p, user, token);
    const kernel = await KernelClient.start(`${p.url}/user/${user}`, token, 300_000);
    kernels.push(kernel);
    const terminal = await fetch(`${p.url}/user/${user}/api/terminals`, {
      method: "POST",
      headers: { Authorization: `token ${token}` },
    });
    assert.equal(terminal.status, 200, await terminal.text());
    const dask = await kernel.execute(
      [
        "import os",
        "from dask_gateway import Gateway",
        "g = Gateway()",
        "opts = g.cluster_options()",
        "opts.worker_profile = 'small'",
        "cluster = g.new_cluster(opts, shutdown_on_close=False)",
        "cluster.scale(1)",
        "client = cluster.get_client()",
        "client.wait_for_workers(1, timeout=180)",
        "print(int(client.submit(lambda x: x * 4, 5).result()))",
        "print(os.getpid())",
      ].join("\n"),
      300_000,
    );
    assert.equal(dask.status, "ok", `${dask.error?.ename}: ${dask.error?.evalue}\n${dask.stderr}`);
    const [twenty, kernelPid] = dask.stdout.trim().split("\n");
    assert.equal(twenty, "20");

    const tokenFile = join(tokenDir, user);
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
    const port = String((p.config.ssh as { port: number }).port);
    const sshArgs = [
      "-f",
      tokenFile,
      "ssh",
      "-p",
      port,
      ...SSH_QUIET,
      ...SSH_BY_PASSWORD,
      `${user}@127.0.0.1`,
    ];
    const leftBehind = await runCommand(
      "sshpass",
      [...sshArgs, "setsid sleep 3601 </dev/null >/dev/null 2>&1 & echo $!"],
      {
        timeoutMs: 60_000,
      },
    ).done;
    assert.equal(leftBehind.code, 0, leftBehind.stderr);
    const session = runCommand("sshpass", [...sshArgs, "sleep 3602"]);
    open.push(session);
    const uid = uidOf(user);
    const ofUser = (test: (cmdline: string) => boolean) =>
      pidsWhere(test).filter((pid) => ownerOf(pid) === uid);
    const pids: Record<string, number[]> = {
      server: ofUser((c) => c.includes("jupyterhub-singleuser")),
      kernel: ofUser((c) => c.includes("ipykernel")).filter((pid) => pid === Number(kernelPid)),
      terminal: ofUser((c) => /^(\S*\/)?(ba)?sh( |$)/.test(c)),
      scheduler: ofUser((c) => /dask[ -]scheduler/.test(c)),
      worker: ofUser((c) => /dask[ -]worker/.test(c)),
      "ssh session": await waitFor(
        "the SSH session's sleep",
        () => {
          const found = ofUser((c) => c === "sleep 3602 ");
          return found.length > 0 ? found : undefined;
        },
        30_000,
      ),
      "left by ssh": ofUser((c) => c === "sleep 3601 "),
    };
    for (const [what, list] of Object.entries(pids)) {
      assert.ok(list.length > 0, `no ${what} process of ${user} is running`);
    }
    const mine = platformPids();
    for (const port of portsOf(mine)) usedPorts.add(port);
    return pids;
  }

  function assertStopped(pids: Record<string, number[]>): void {
    const left = Object.entries(pids).flatMap(([what, list]) => alive(list).map((pid) => `${what} ${pid}`));
    assert.deepEqual(left, [], "processes still running after destroy");
  }

  async function assertAsBefore(): Promise<void> {
    const now = snapshot(p);
    assert.deepEqual(now.passwd, before0.passwd, "/etc/passwd differs from before the first deploy");
    assert.deepEqual(now.group, before0.group, "/etc/group differs from before the first deploy");
    assert.deepEqual(
      now.folders,
      before0.folders,
      "the platform's folders differ from before the first deploy",
    );
    assert.deepEqual(
      now.cgroups,
      before0.cgroups,
      "the platform's cgroups differ from before the first deploy",
    );
    await assertNoPlatformProcess();
    const stillListening = [...usedPorts].filter(
      (port) => now.ports.includes(port) && !before0.ports.includes(port),
    );
    assert.deepEqual(stillListening, [], "ports the platform listened on are still open");
  }

  function closeSessions(): void {
    for (const k of kernels.splice(0)) k.close();
    for (const s of open.splice(0)) s.child.kill("SIGKILL");
  }

  before(async () => {
    p = await makePlatform(scope, { seedUvCache: false, config: (n) => exampleConfig("team.yaml", n) });
    admin = p.name("ada");
    user = p.name("grace");
    tokenDir = `${p.root}-tokens`;
    scope.after(() => rmSync(tokenDir, { recursive: true, force: true }));
    scope.after(closeSessions);
    before0 = snapshot(p);
    mkdirSync(tokenDir, { mode: 0o700 });
    seedUvCaches(p.dirs.prefix, { build: true });
    await deploy();
  });

  it("plain destroy stops the servers, kernels, terminals, Dask clusters and SSH sessions, and keeps the data", async () => {
    const pids = await startEverything();
    const r = await p.atrium(["destroy", "-c", p.configFile]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assertStopped(pids);
    await assertNoPlatformProcess();
    closeSessions();
    assert.ok(existsSync(join(p.dirs.home, user)), "destroy removed a home");
    assert.ok(existsSync(join(p.dirs.data, "secrets")), "destroy removed the secrets");
  });

  it("a purge killed half-way is finished by the next one, leaving the machine as it was", async () => {
    await deploy();
    const pids = await startEverything();
    const first = runCommand(process.execPath, [ATRIUM, "destroy", "--purge", "--yes", "-c", p.configFile], {
      timeoutMs: 300_000,
    });
    let seen = "";
    first.child.stdout?.on("data", (d: Buffer | string) => {
      seen += String(d);
      // Half-way: the first account is gone, the rest of what it made is not.
      if (/^ {2}user \S+ removed$/m.test(seen)) first.child.kill("SIGKILL");
    });
    const killed = await first.done;
    assert.equal(
      killed.code,
      null,
      `the purge ended before it was killed:\n${killed.stdout}${killed.stderr}`,
    );
    closeSessions();
    assertStopped(pids);
    const again = await purge();
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /removed everything Atrium made/);
    await assertAsBefore();
  });

  it("deploys straight after a purge: login, server, kernel and Dask work; a purge of that leaves nothing", async () => {
    seedUvCaches(p.dirs.prefix, { build: true });
    const r = await deploy();
    const password = /First login: user "[^"]+", password "([^"]+)"/.exec(r.stdout)?.[1];
    assert.ok(password, `no first password printed:\n${r.stdout}`);
    const login = await p.login(admin, password);
    assert.equal(login.status, 302, "the admin could not log in");
    assert.doesNotMatch(login.location ?? "", /login/);
    const pids = await startEverything();
    const gone = await purge();
    assert.equal(gone.code, 0, gone.stdout + gone.stderr);
    assert.match(gone.stdout, /removed everything Atrium made/);
    closeSessions();
    assertStopped(pids);
    await assertAsBefore();
  });
});
