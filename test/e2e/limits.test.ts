/**
 * Limits one user must not be able to break for everyone, tried as an attacker
 * would, with real users, a real SSH client, a real kernel and a real Dask cluster:
 * - a Dask dashboard asked for without any token at the gateway proxy's own
 *   loopback ports (not through the platform URL and its guard) is refused;
 * - `/dev/shm` is private to each server and SSH session and bounded: a user who
 *   writes twice her memory limit there stops at the bound, and another user never
 *   sees her files;
 * - a bounded fork loop stops at the pids limit of her cgroup (SSH session and
 *   server), and every process it made is killed afterwards.
 * Everything made here (files in the machine's /dev/shm if they got there,
 * processes, the cluster) is removed, also on failure.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runAs, spawnServer } from "./checks.js";
import {
  type CommandResult,
  idOf,
  makePlatform,
  type Platform,
  runCommand,
  sleep,
  suiteScope,
  waitFor,
} from "./harness.js";
import { KernelClient } from "./kernel.js";
import { SSH_BY_PASSWORD, SSH_QUIET } from "./ssh-options.js";

const MiB = 2 ** 20;
const MEM_LIMIT = 1024 * MiB;
const PIDS_LIMIT = 300;
/** Forks a fork loop attempts: well past the limit, small enough to be harmless without one. */
const FORK_BOUND = 1000;

/** Writes up to argv[2] bytes into argv[1] in 1 MiB steps; says where it stopped. */
const WRITE_SHM = String.raw`
import os, sys
path, limit = sys.argv[1], int(sys.argv[2])
chunk = b"\0" * (1 << 20)
written = 0
try:
    with open(path, "wb") as f:
        while written < limit:
            f.write(chunk)
            f.flush()
            written += len(chunk)
except OSError as e:
    print("stopped:", e.strerror, flush=True)
print("size", os.stat(path).st_size, flush=True)
`;

/** Forks up to argv[1] children that each exec `sleep 3600`; prints how many it made. */
const FORK_LOOP = `
import os, sys
made = 0
for _ in range(int(sys.argv[1])):
    try:
        pid = os.fork()
    except OSError as e:
        print("fork failed:", e.strerror, flush=True)
        break
    if pid == 0:
        try:
            # let go of the session's output, so the loop's caller sees it end
            null = os.open("/dev/null", os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            os.execv("/bin/sleep", ["sleep", "3600"])
        finally:
            os._exit(127)
    made += 1
print("made", made, flush=True)
`;

/** Pids of `sleep 3600` processes of `uid` (what FORK_LOOP leaves behind). */
function sleepersOf(uid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      if (Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]) !== uid) continue;
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8") === "sleep\u00003600\u0000") found.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

async function killAll(pids: () => number[]): Promise<void> {
  await waitFor(
    "the fork loop's processes to be gone",
    () => {
      const left = pids();
      for (const pid of left) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // gone
        }
      }
      return left.length === 0 ? true : undefined;
    },
    60_000,
    200,
  );
}

function shmNames(): string[] {
  return readdirSync("/dev/shm");
}

describe("limits one user cannot break for everyone", () => {
  const scope = suiteScope(after);
  let p: Platform;
  let ann = "";
  let bob = "";
  let sshPort = 0;
  let kernel: KernelClient | undefined;
  const tokens: Record<string, string> = {};
  const tokenFiles: Record<string, string> = {};
  let marker = "";

  const ssh = (user: string, args: string[], input?: string) =>
    runCommand(
      "sshpass",
      [
        "-f",
        tokenFiles[user] ?? "",
        "ssh",
        "-p",
        String(sshPort),
        ...SSH_QUIET,
        ...SSH_BY_PASSWORD,
        `${user}@127.0.0.1`,
        ...args,
      ],
      { input, timeoutMs: 300_000 },
    );

  async function run(code: string, timeoutMs = 240_000): Promise<string> {
    assert.ok(kernel, "no kernel for ann");
    const r = await kernel.execute(code, timeoutMs);
    assert.equal(r.status, "ok", `ann's cell failed: ${r.error?.ename}: ${r.error?.evalue}\n${r.stderr}`);
    return r.stdout.trim();
  }

  before(async () => {
    p = await makePlatform(scope, {
      config: (n) => ({
        users: [{ name: n.name("admin"), admin: true }, { name: n.name("ann") }, { name: n.name("bob") }],
        profiles: [
          {
            name: "small",
            display_name: "Small",
            mem_limit: `${MEM_LIMIT / MiB}Mi`,
            cpu_limit: 1,
            pids_limit: PIDS_LIMIT,
            default: true,
          },
        ],
        dask: {
          enabled: true,
          worker_profiles: [{ name: "tiny", cores: 1, memory: "1G", threads: 1 }],
          limits: { max_workers: 1, max_cores: 1, max_memory: "2G" },
        },
        videochat: { enabled: false },
      }),
    });
    ann = p.name("ann");
    bob = p.name("bob");
    marker = `atrium-e2e-${p.id}`;
    sshPort = (p.config.ssh as { port: number }).port;
    // Whatever reached the machine's shared /dev/shm (only before the fix) goes at the end.
    scope.after(() => {
      for (const name of shmNames().filter((f) => f.startsWith(marker)))
        rmSync(join("/dev/shm", name), { force: true });
    });
    const deployed = await p.deploy();
    assert.equal(deployed.code, 0, `deploy failed:\n${deployed.stdout}\n${deployed.stderr}`);
    for (const u of [ann, bob]) {
      tokens[u] = await p.userToken(u);
      tokenFiles[u] = join(p.root, `${u}.token`);
      writeFileSync(tokenFiles[u], `${tokens[u]}\n`, { mode: 0o600 });
    }
    await spawnServer(p, ann, tokens[ann] ?? "");
    kernel = await KernelClient.start(`${p.url}/user/${ann}`, tokens[ann] ?? "");
  });

  after(() => kernel?.close());

  it("refuses a Dask dashboard without a token at every address the gateway's proxy listens on", async () => {
    const out = await run(
      [
        "from dask_gateway import Gateway",
        "g = Gateway()",
        "cluster = g.new_cluster()",
        "cluster.scale(1)",
        "client = cluster.get_client()",
        "client.wait_for_workers(1, timeout=180)",
        "print(cluster.name)",
        "print(client.submit(lambda x: x * 2, 21).result())",
      ].join("\n"),
    );
    const [name, answer] = out.split("\n");
    assert.match(name ?? "", /^[0-9a-f]{32}$/);
    assert.equal(answer, "42", "ann's Dask client computes through the TLS scheduler proxy");
    const path = `/services/dask-gateway/clusters/${name}/status`;
    // The way users are meant to reach it still works, for the owner.
    assert.equal((await p.get(path, { token: tokens[ann] })).status, 200);

    const gateway = JSON.parse(
      readFileSync(join(p.dirs.prefix, "etc", "dask-gateway", "gateway.json"), "utf8"),
    );
    const addresses = [...new Set([gateway.proxy.address, gateway.proxy.tcp_address] as string[])];
    const probe = [
      "import sys, urllib.request",
      "for address in sys.argv[1:]:",
      `    url = "http://" + address + ${JSON.stringify(path)}`,
      "    try:",
      "        print(address, urllib.request.urlopen(url, timeout=20).status)",
      "    except Exception as e:",
      "        print(address, 'refused:', type(e).__name__)",
    ].join("\n");
    for (const user of [bob, ann]) {
      const r = runAs(user, ["/usr/bin/python3", "-c", probe, ...addresses]);
      assert.equal(r.code, 0, r.stderr);
      console.log(
        `${user === ann ? "ann" : "bob"} without a token: ${r.stdout.trim().replaceAll("\n", "; ")}`,
      );
      for (const line of r.stdout.trim().split("\n")) assert.match(line, /refused/, line);
    }
  });

  it("puts Dask workers under a pids limit", async () => {
    const uid = Number(idOf(ann, "-u"));
    const worker = readdirSync("/proc").find((e) => {
      try {
        const status = readFileSync(`/proc/${e}/status`, "utf8");
        return (
          Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]) === uid &&
          readFileSync(`/proc/${e}/cmdline`, "utf8").includes("worker")
        );
      } catch {
        return false;
      }
    });
    assert.ok(worker, "ann's Dask worker is running");
    const line = readFileSync(`/proc/${worker}/cgroup`, "utf8")
      .split("\n")
      .find((l) => /:pids:/.test(l));
    const max = readFileSync(join("/sys/fs/cgroup/pids", line?.split(":")[2] ?? "/", "pids.max"), "utf8");
    console.log(`worker ${worker}: pids cgroup ${line}, pids.max ${max.trim()}`);
    assert.notEqual(max.trim(), "max");
    assert.ok(Number(max) > 0);
    await run("cluster.shutdown()\nclient.close()");
  });

  it("keeps /dev/shm private and bounded in an SSH session", async () => {
    const file = `${marker}-ssh`;
    const writer = ssh(
      ann,
      [`/usr/bin/python3 - /dev/shm/${file} ${2 * MEM_LIMIT}; echo written; sleep 20`],
      WRITE_SHM,
    );
    let seen = "";
    writer.child.stdout?.on("data", (d: Buffer) => {
      seen += String(d);
    });
    await waitFor(
      "ann's write into /dev/shm to end",
      () => (seen.includes("written") ? true : undefined),
      240_000,
    );
    const onHost = shmNames().includes(file);
    const bobSees = await ssh(bob, ["ls -a /dev/shm"]).done;
    const written = await writer.done;
    console.log(`ann's session: ${written.stdout.trim().replaceAll("\n", "; ")}; on the machine: ${onHost}`);
    const size = Number(/size (\d+)/.exec(written.stdout)?.[1] ?? "0");
    assert.ok(size > 0, `ann wrote nothing: ${written.stdout}${written.stderr}`);
    assert.ok(
      size <= MEM_LIMIT,
      `ann wrote ${size / MiB} MiB into /dev/shm, past her ${MEM_LIMIT / MiB} MiB`,
    );
    assert.equal(onHost, false, "ann's file is in the machine's shared /dev/shm");
    assert.equal(bobSees.code, 0, bobSees.stderr);
    assert.doesNotMatch(bobSees.stdout, new RegExp(file), "bob sees ann's file");
    assert.equal(shmNames().includes(file), false);
  });

  it("keeps /dev/shm private and bounded in a server's kernel", async () => {
    const file = `${marker}-kernel`;
    const out = await run(
      [
        "import subprocess",
        `r = subprocess.run(["/usr/bin/python3", "-c", ${JSON.stringify(WRITE_SHM)}, "/dev/shm/${file}", "${2 * MEM_LIMIT}"], capture_output=True, text=True)`,
        "print(r.returncode, r.stdout, r.stderr)",
      ].join("\n"),
    );
    const onHost = shmNames().includes(file);
    const bobSees = await ssh(bob, ["ls -a /dev/shm"]).done;
    console.log(`ann's kernel: ${out.replaceAll("\n", "; ")}; on the machine: ${onHost}`);
    await run(`import os\nos.remove("/dev/shm/${file}")`);
    const size = Number(/size (\d+)/.exec(out)?.[1] ?? "0");
    assert.ok(size > 0, `ann wrote nothing: ${out}`);
    assert.ok(
      size <= MEM_LIMIT,
      `ann wrote ${size / MiB} MiB into /dev/shm, past her ${MEM_LIMIT / MiB} MiB`,
    );
    assert.equal(onHost, false, "ann's file is in the machine's shared /dev/shm");
    assert.doesNotMatch(bobSees.stdout, new RegExp(file), "bob sees ann's file");
    // multiprocessing's semaphores live in /dev/shm: they still work
    assert.equal(
      await run(
        "import multiprocessing as mp\nwith mp.get_context('spawn').Pool(2) as pool:\n    print(sum(pool.map(abs, [-1, -2, 3])))",
      ),
      "6",
    );
  });

  for (const where of ["an SSH session", "a server's kernel"] as const) {
    it(`stops a fork loop in ${where} at the pids limit`, async () => {
      const uid = Number(idOf(ann, "-u"));
      let result: CommandResult | string;
      try {
        if (where === "an SSH session") {
          result = await ssh(ann, [`/usr/bin/python3 - ${FORK_BOUND}`], FORK_LOOP).done;
        } else {
          result = await run(
            [
              "import subprocess",
              `r = subprocess.run(["/usr/bin/python3", "-c", ${JSON.stringify(FORK_LOOP)}, "${FORK_BOUND}"], stdout=subprocess.PIPE, text=True)`,
              "print(r.stdout)",
            ].join("\n"),
          );
        }
        await sleep(500);
        const running = sleepersOf(uid).length;
        const text = typeof result === "string" ? result : result.stdout + result.stderr;
        console.log(`${where}: ${text.trim().replaceAll("\n", "; ")}; ${running} sleeping children counted`);
        const made = Number(/made (\d+)/.exec(text)?.[1] ?? "-1");
        assert.ok(made >= 0, `the fork loop printed no count: ${text}`);
        assert.match(text, /fork failed/);
        assert.ok(made < PIDS_LIMIT, `the loop made ${made} processes, the limit is ${PIDS_LIMIT}`);
        assert.ok(running < PIDS_LIMIT, `${running} processes left running, the limit is ${PIDS_LIMIT}`);
      } finally {
        await killAll(() => sleepersOf(uid));
      }
    });
  }
});
