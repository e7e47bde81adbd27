/**
 * Root never writes, chowns or deletes where a user points. Users plant symlinks
 * (and hard links where they apply) in folders they can write, around the steps
 * root takes there: a Dask cluster's start and scale, a redeploy, a purge. A
 * root-only folder is the target each time; it must come out unchanged, with
 * nothing new in it.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { shAs } from "./checks.js";
import {
  type CommandResult,
  makePlatform,
  type Platform,
  runCommand,
  suiteScope,
  waitFor,
} from "./harness.js";

/** A root-only folder holding `files` files named f0, f1...; returns its path. */
function rootOnlyFolder(p: Platform, name: string, files = 0): string {
  const dir = join(p.root, name);
  mkdirSync(dir, { mode: 0o700 });
  for (let i = 0; i < files; i++) writeFileSync(join(dir, `f${i}`), "root's\n", { mode: 0o600 });
  return dir;
}

/** What a folder holds: each entry's name, owner and (for files) content. */
function snapshot(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .map((n) => {
      const st = lstatSync(join(dir, n));
      const content = st.isFile() ? readFileSync(join(dir, n), "utf8") : "";
      return `${n} ${st.uid}:${st.gid} ${(st.mode & 0o7777).toString(8)} ${JSON.stringify(content)}`;
    });
}

/** setpriv's arguments that run `argv` as `user`, with their uid, gid and groups. */
function asUser(user: string, ...argv: string[]): string[] {
  return ["--reuid", user, "--regid", user, "--init-groups", "--", ...argv];
}

/** Python as `user`, with the hub token a kernel of theirs would have. */
function pythonAs(p: Platform, user: string, token: string, code: string): Promise<CommandResult> {
  return runCommand(
    "setpriv",
    asUser(user, join(p.dirs.prefix, "venvs", "user", "bin", "python"), "-c", code),
    {
      cwd: "/",
      timeoutMs: 240_000,
      env: { PATH: "/usr/bin:/bin", LANG: "C.UTF-8", JUPYTERHUB_API_TOKEN: token },
    },
  ).done;
}

/**
 * Swaps each of `dirs` folders (each with `files` files f0, f1...) in `base` for a
 * link to `target` and back, as fast as it can, until killed: a tree walk by path
 * that looks at a folder and then reads it meets the link in between.
 */
const SWAPPER = `
import os, sys, time
base, target, dirs, files = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
os.chdir(base)
for i in range(dirs):
    os.mkdir(f"d{i}")
    for j in range(files):
        open(f"d{i}/f{j}", "w").close()
print("ready", flush=True)
i = 0
while True:
    k = i % dirs
    i += 1
    try:
        os.rename(f"d{k}", f"x{k}")
    except OSError:
        continue
    try:
        os.symlink(target, f"d{k}")
        time.sleep(0.0003)
        os.unlink(f"d{k}")
    except OSError:
        pass
    try:
        os.rename(f"x{k}", f"d{k}")
    except OSError:
        pass
    time.sleep(0.0003)
`;

describe("root never writes where a user points", () => {
  const scope = suiteScope(after);
  let p: Platform;
  let alice = "";
  let mallory = "";
  let team = "";
  let aliceToken = "";

  before(async () => {
    p = await makePlatform(scope, {
      config: (n) => ({
        groups: [{ name: n.name("team") }],
        users: [
          { name: n.name("alice"), admin: true, groups: [n.name("team")] },
          { name: n.name("mallory"), groups: [n.name("team")] },
        ],
        dask: {
          enabled: true,
          worker_profiles: [{ name: "tiny", cores: 1, memory: "1G", threads: 1 }],
          limits: { max_workers: 1, max_cores: 1, max_memory: "2G" },
        },
      }),
    });
    alice = p.name("alice");
    mallory = p.name("mallory");
    team = p.name("team");
    // Mallory's account was on the machine before Atrium: Atrium adopts it and, on
    // purge, leaves it (and her processes) alone.
    mkdirSync(p.dirs.home, { recursive: true, mode: 0o755 });
    execFileSync("useradd", ["-m", "-d", join(p.dirs.home, mallory), "-U", mallory]);
    const deployed = await p.deploy();
    assert.equal(deployed.code, 0, `deploy failed:\n${deployed.stdout}\n${deployed.stderr}`);
    aliceToken = await p.userToken(alice);
  });

  it("cluster start: a `logs` link in the cluster's work folder gets no file from the gateway", async () => {
    const target = rootOnlyFolder(p, "target-dask-logs");
    const made = await pythonAs(
      p,
      alice,
      aliceToken,
      "from dask_gateway import Gateway\nprint(Gateway().new_cluster(shutdown_on_close=False).name)",
    );
    assert.equal(made.code, 0, `new_cluster failed:\n${made.stdout}\n${made.stderr}`);
    const name = made.stdout.trim().split("\n").at(-1) ?? "";
    assert.match(name, /^[0-9a-f]{32}$/);
    const workdir = join(p.dirs.data, "dask-clusters", name);
    const planted = shAs(alice, 'cd "$1" && mv logs logs.old && ln -s "$2" logs', workdir, target);
    assert.equal(planted.code, 0, `alice could not change her own work folder: ${planted.stderr}`);
    const scaled = await pythonAs(
      p,
      alice,
      aliceToken,
      [
        "from dask_gateway import Gateway",
        `c = Gateway().connect(${JSON.stringify(name)})`,
        "c.scale(1)",
        "client = c.get_client()",
        "try:",
        "    client.wait_for_workers(1, timeout=60)",
        "    print('worker up')",
        "except Exception as e:",
        "    print('no worker:', type(e).__name__)",
        "c.shutdown()",
      ].join("\n"),
    );
    const said = `${scaled.stdout}${scaled.stderr}`.trim().split("\n").at(-1);
    process.stderr.write(`scale with a planted logs link: exit ${scaled.code}: ${said}\n`);
    assert.deepEqual(snapshot(target), [], "the gateway created files in the folder the link points to");
  });

  it("redeploy: links planted in ~/shared, a home and a shared folder are left alone and followed nowhere", async () => {
    const target = rootOnlyFolder(p, "target-redeploy", 2);
    const before = snapshot(target);
    const home = join(p.dirs.home, mallory);
    const folder = join(p.dirs.shared, team);
    const planted = shAs(
      mallory,
      [
        'ln -s "$2" "$1/shared/planted"',
        'ln -s "$2/f0" "$1/.bashrc.planted"',
        'ln -s "$2" "$3/planted-dir"',
        'ln -s "$2/f1" "$3/planted-file"',
      ].join(" && "),
      home,
      target,
      folder,
    );
    assert.equal(planted.code, 0, planted.stderr);
    // A new group with a shared folder makes the accounts and shared-folders steps run again.
    const config = structuredClone(p.config) as {
      groups: Array<{ name: string }>;
      users: Array<{ name: string; groups: string[] }>;
    };
    config.groups.push({ name: p.name("more") });
    for (const u of config.users) u.groups.push(p.name("more"));
    p.writeConfig(config);
    const r = await p.deploy();
    assert.equal(r.code, 0, `redeploy failed:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /shared-folders/);
    assert.deepEqual(snapshot(target), before);
    assert.ok(lstatSync(join(home, "shared", "planted")).isSymbolicLink());
  });

  it("purge: a member who keeps her account swaps folders for links while the shared folder is removed", async () => {
    const files = 2000;
    const target = rootOnlyFolder(p, "target-purge", files);
    const before = snapshot(target);
    const folder = join(p.dirs.shared, team);
    const swapper = runCommand(
      "setpriv",
      asUser(mallory, "/usr/bin/python3", "-c", SWAPPER, folder, target, "3", String(files)),
      { cwd: "/", env: { PATH: "/usr/bin:/bin" } },
    );
    try {
      let out = "";
      swapper.child.stdout?.on("data", (d: Buffer) => {
        out += d.toString();
      });
      await waitFor("the swapper to be ready", () => (out.includes("ready") ? true : undefined), 60_000);
      const purged = await p.atrium(["destroy", "--purge", "--yes", "-c", p.configFile]);
      process.stderr.write(`purge exited ${purged.code}\n`);
    } finally {
      swapper.child.kill("SIGKILL");
      await swapper.done;
    }
    const after = snapshot(target);
    assert.equal(after.length, files, `root deleted ${files - after.length} files the links pointed to`);
    assert.deepEqual(after, before);
    assert.ok(existsSync(target));
  });
});
