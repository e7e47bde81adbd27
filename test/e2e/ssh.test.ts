/**
 * The SSH gateway end to end, with the real OpenSSH client (ssh, sftp, scp,
 * rsync): logins with hub tokens and authorized keys, exec with exit status and
 * separate stderr, a real terminal with window changes, file transfers landing
 * with the right owners in homes and group folders, local forwarding only to the
 * user's own ports, refusals, rate limiting and `atrium status`; a connection stays
 * open across a redeploy that adds a user. Tokens reach the
 * client through `sshpass -f FILE`, never a command line.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, chownSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  type CommandResult,
  freePorts,
  idOf,
  makePlatform,
  type Platform,
  runCommand,
  sleep,
  suiteScope,
  waitFor,
} from "./harness.js";
import { SSH_BY_PASSWORD, SSH_QUIET } from "./ssh-options.js";

/** Drives `ssh` on a real terminal of 33x101, resizes it to 40x120, and prints the transcript. */
const PTY_DRIVER = String.raw`
import fcntl, os, pty, select, struct, sys, termios, time
def size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
pid, fd = pty.fork()
if pid == 0:
    size(0, 33, 101)
    os.execvp(sys.argv[1], sys.argv[1:])
out = b""
def until(token, limit=30):
    global out
    end = time.time() + limit
    while token not in out:
        if time.time() > end:
            sys.stdout.write(out.decode(errors="replace"))
            sys.exit(90)
        r, _, _ = select.select([fd], [], [], 0.5)
        if r:
            try:
                out += os.read(fd, 65536)
            except OSError:
                break
os.write(fd, b"tty; stty size; echo M$((40+2))\n")
until(b"M42")
size(fd, 40, 120)
time.sleep(0.5)
os.write(fd, b"stty size; echo N$((40+2))\n")
until(b"N42")
os.write(fd, b"exit 3\n")
end = time.time() + 15
while time.time() < end:
    r, _, _ = select.select([fd], [], [], 0.5)
    if r:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        out += data
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
`;

function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

describe("SSH gateway", () => {
  const scope = suiteScope(after);
  let p: Platform;
  let port: number;
  let ann: string;
  let bob: string;
  let lab: string;
  let annHome: string;
  const tokens: Record<string, string> = {};
  const tokenFiles: Record<string, string> = {};
  let keyFile: string;

  const tokenFile = (label: string, token: string): string => {
    const file = join(p.root, "tokens", label);
    writeFileSync(file, `${token}\n`, { mode: 0o600 });
    return file;
  };

  /** `ssh` as `user` with the token in `file`, running `command` (an array for ssh's own options first). */
  const ssh = (user: string, file: string, args: string[], input?: string): Promise<CommandResult> =>
    runCommand(
      "sshpass",
      ["-f", file, "ssh", "-p", String(port), ...SSH_QUIET, ...SSH_BY_PASSWORD, `${user}@127.0.0.1`, ...args],
      { input, timeoutMs: 120_000 },
    ).done;

  const sshKey = (args: string[]): string[] => [
    "ssh",
    "-p",
    String(port),
    ...SSH_QUIET,
    "-i",
    keyFile,
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "PreferredAuthentications=publickey",
    "-o",
    "BatchMode=yes",
    `${ann}@127.0.0.1`,
    ...args,
  ];

  before(async () => {
    p = await makePlatform(scope, {
      config: (n) => ({
        groups: [{ name: n.name("lab") }],
        users: [
          { name: n.name("admin"), admin: true },
          { name: n.name("ann"), groups: [n.name("lab")] },
          { name: n.name("bob"), groups: [n.name("lab")] },
        ],
        profiles: [
          { name: "small", display_name: "Small", mem_limit: "1Gi", cpu_limit: 1, default: true },
          { name: "big", display_name: "Big", mem_limit: "4Gi" },
        ],
        dask: { enabled: false },
        videochat: { enabled: false },
      }),
    });
    ann = p.name("ann");
    bob = p.name("bob");
    lab = p.name("lab");
    annHome = join(p.dirs.home, ann);
    port = (p.config.ssh as { port: number }).port;
    const r = await p.deploy();
    assert.equal(r.code, 0, r.stdout + r.stderr);
    mkdirSync(join(p.root, "tokens"), { mode: 0o700 });
    for (const u of [ann, bob]) {
      tokens[u] = await p.userToken(u);
      tokenFiles[u] = tokenFile(u, tokens[u] ?? "");
    }
    keyFile = join(p.root, "tokens", "ann_key");
    const kg = await runCommand("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", keyFile]).done;
    assert.equal(kg.code, 0, kg.stderr);
  });

  it("keeps its host key in a root-only file and serves that key", async () => {
    const keyPath = join(p.dirs.data, "secrets", "ssh_host_ed25519_key");
    assert.equal(statSync(keyPath).mode & 0o777, 0o600);
    assert.equal(statSync(keyPath).uid, 0);
    const pub = readFileSync(`${keyPath}.pub`, "utf8").trim().split(/\s+/).slice(0, 2).join(" ");
    const scan = await runCommand("ssh-keyscan", ["-t", "ed25519", "-p", String(port), "127.0.0.1"]).done;
    assert.match(scan.stdout, new RegExp(pub.replaceAll("+", "\\+").replaceAll("/", "\\/")));
  });

  it("runs a command with a token as password and returns the uid and exit status", async () => {
    const r = await ssh(ann, tokenFiles[ann] ?? "", ["id", "-u"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), idOf(ann, "-u"));
    assert.equal((await ssh(ann, tokenFiles[ann] ?? "", ["false"])).code, 1);
    assert.equal((await ssh(ann, tokenFiles[ann] ?? "", ["exit 42"])).code, 42);
  });

  it("keeps stderr apart from stdout", async () => {
    const r = await ssh(ann, tokenFiles[ann] ?? "", ["echo out; echo err >&2"]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, "out\n");
    assert.equal(r.stderr, "err\n");
  });

  it("runs as the user's account with their groups, home, PATH and limits", async () => {
    const r = await ssh(ann, tokenFiles[ann] ?? "", [
      'id -Gn; echo "$HOME"; echo "$PATH"; pwd; grep -E "[:,]memory[:,]" /proc/self/cgroup',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const [groups, home, path, cwd, memory] = r.stdout.trim().split("\n");
    assert.ok(groups?.split(" ").includes(lab), `groups: ${groups}`);
    assert.equal(home, annHome);
    assert.equal(cwd, annHome);
    assert.ok(path?.startsWith(`${join(p.dirs.prefix, "venvs", "user", "bin")}:`), path);
    const group = `/atrium/${p.project}/users/${ann}.ssh`;
    assert.equal(memory?.split(":")[2], group);
    const limit = readFileSync(`/sys/fs/cgroup/memory${group}/memory.limit_in_bytes`, "utf8").trim();
    assert.equal(limit, String(1024 ** 3));
  });

  it("passes binary data through exec unchanged", async () => {
    const data = randomBytes(3 * 1024 * 1024);
    const file = join(p.root, "blob.bin");
    writeFileSync(file, data);
    const r = await runCommand("sh", [
      "-c",
      `sshpass -f "$1" ssh -p ${port} ${[...SSH_QUIET, ...SSH_BY_PASSWORD].join(" ")} "$2"@127.0.0.1 'cat > blob.bin; sha256sum blob.bin; cat blob.bin' < "$3" | tail -c ${data.length} | sha256sum`,
      "sh",
      tokenFiles[ann] ?? "",
      ann,
      file,
    ]).done;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.split(" ")[0], sha256(data));
    assert.equal(sha256(readFileSync(join(annHome, "blob.bin"))), sha256(data));
  });

  it("logs in with a key from ~/.ssh/authorized_keys, but only from a file nobody else can write", async () => {
    const uid = Number(idOf(ann, "-u"));
    const gid = Number(idOf(ann, "-g"));
    const dir = join(annHome, ".ssh");
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chownSync(dir, uid, gid);
    const keys = join(dir, "authorized_keys");
    writeFileSync(keys, readFileSync(`${keyFile}.pub`));
    chownSync(keys, uid, gid);
    chmodSync(keys, 0o600);
    const ok = await runCommand("ssh", sshKey(["whoami"]).slice(1)).done;
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout.trim(), ann);
    chmodSync(keys, 0o620);
    const refused = await runCommand("ssh", sshKey(["whoami"]).slice(1)).done;
    assert.equal(refused.code, 255);
    assert.match(refused.stderr, /Permission denied/);
    chmodSync(keys, 0o600);
  });

  it("gives an interactive session a real terminal that follows window changes", async () => {
    const driver = join(p.root, "pty-driver.py");
    writeFileSync(driver, PTY_DRIVER);
    const r = await runCommand("/usr/bin/python3", [driver, ...sshKey([])]).done;
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stdout, /\/dev\/pts\/\d+\r\n33 101\r\n/);
    assert.match(r.stdout, /[\r\n]40 120\r\n/);
  });

  it("puts and gets files with sftp: owned by the user, group folder permissions kept", async () => {
    const local = join(p.root, "up.txt");
    writeFileSync(local, `shared ${randomBytes(8).toString("hex")}\n`);
    chmodSync(local, 0o664);
    const batch = join(p.root, "sftp.batch");
    writeFileSync(
      batch,
      [
        `put ${local} mine.txt`,
        `put ${local} shared/${lab}/team.txt`,
        `get shared/${lab}/team.txt ${local}.back`,
      ].join("\n"),
    );
    const r = await runCommand(
      "sshpass",
      [
        "-f",
        tokenFiles[ann] ?? "",
        "sftp",
        "-P",
        String(port),
        ...SSH_QUIET,
        ...SSH_BY_PASSWORD,
        "-o",
        "BatchMode=no",
        "-b",
        batch,
        `${ann}@127.0.0.1`,
      ],
      { timeoutMs: 60_000 },
    ).done;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(readFileSync(`${local}.back`, "utf8"), readFileSync(local, "utf8"));
    const uid = Number(idOf(ann, "-u"));
    assert.equal(statSync(join(annHome, "mine.txt")).uid, uid);
    const shared = statSync(join(p.dirs.shared, lab, "team.txt"));
    assert.equal(shared.uid, uid);
    assert.equal(shared.gid, statSync(join(p.dirs.shared, lab)).gid, "the group folder's group is kept");
    assert.equal(shared.mode & 0o060, 0o060, "group members may read and write");
    // Another member of the group reads it through the gateway.
    const other = await ssh(bob, tokenFiles[bob] ?? "", [`cat ~/shared/${lab}/team.txt`]);
    assert.equal(other.code, 0, other.stderr);
    assert.equal(other.stdout, readFileSync(local, "utf8"));
  });

  it("copies with scp both ways, and with rsync", async () => {
    const data = randomBytes(2 * 1024 * 1024);
    const local = join(p.root, "scp.bin");
    writeFileSync(local, data);
    const scp = (args: string[]) =>
      runCommand(
        "sshpass",
        ["-f", tokenFiles[ann] ?? "", "scp", "-P", String(port), ...SSH_QUIET, ...SSH_BY_PASSWORD, ...args],
        {
          timeoutMs: 60_000,
        },
      ).done;
    const up = await scp([local, `${ann}@127.0.0.1:scp.bin`]);
    assert.equal(up.code, 0, up.stderr);
    const down = await scp([`${ann}@127.0.0.1:scp.bin`, `${local}.back`]);
    assert.equal(down.code, 0, down.stderr);
    assert.equal(sha256(readFileSync(`${local}.back`)), sha256(data));
    assert.equal(statSync(join(annHome, "scp.bin")).uid, Number(idOf(ann, "-u")));
    const tree = join(p.root, "tree");
    mkdirSync(join(tree, "sub"), { recursive: true });
    writeFileSync(join(tree, "sub", "a.bin"), data);
    const rsync = await runCommand(
      "sshpass",
      [
        "-f",
        tokenFiles[ann] ?? "",
        "rsync",
        "-a",
        "-e",
        `ssh -p ${port} ${[...SSH_QUIET, ...SSH_BY_PASSWORD].join(" ")}`,
        `${tree}/`,
        `${ann}@127.0.0.1:tree/`,
      ],
      { timeoutMs: 60_000 },
    ).done;
    assert.equal(rsync.code, 0, rsync.stderr);
    assert.equal(sha256(readFileSync(join(annHome, "tree", "sub", "a.bin"))), sha256(data));
  });

  it("forwards with -L to a port the user listens on, and refuses another user's port", async () => {
    const [annPort, bobPort, localPort] = (await freePorts(3)) as [number, number, number];
    writeFileSync(join(annHome, "hello.txt"), "hello from ann\n");
    const serve = (user: string, listen: number) =>
      ssh(user, tokenFiles[user] ?? "", [
        `nohup /usr/bin/python3 -m http.server ${listen} --bind 127.0.0.1 --directory ~ >/dev/null 2>&1 </dev/null &`,
      ]);
    assert.equal((await serve(ann, annPort)).code, 0);
    assert.equal((await serve(bob, bobPort)).code, 0);
    const listening = (port: number) => {
      const hex = `:${port.toString(16).toUpperCase().padStart(4, "0")} 00000000:0000 0A`;
      return readFileSync("/proc/net/tcp", "utf8").includes(hex) ? true : undefined;
    };
    await waitFor("ann's web server", () => listening(annPort), 20_000, 200);
    await waitFor("bob's web server", () => listening(bobPort), 20_000, 200);

    const fwd = runCommand("sshpass", [
      "-f",
      tokenFiles[ann] ?? "",
      "ssh",
      "-p",
      String(port),
      ...SSH_QUIET,
      ...SSH_BY_PASSWORD,
      "-N",
      "-o",
      "ExitOnForwardFailure=yes",
      "-L",
      `${localPort}:127.0.0.1:${annPort}`,
      `${ann}@127.0.0.1`,
    ]);
    try {
      const body = await waitFor(
        "the forwarded port",
        async () => {
          const res = await fetch(`http://127.0.0.1:${localPort}/hello.txt`);
          return res.status === 200 ? await res.text() : undefined;
        },
        20_000,
        300,
      );
      assert.equal(body, "hello from ann\n");
    } finally {
      fwd.child.kill("SIGTERM");
      await fwd.done;
    }

    // -W opens one forwarding channel and fails as soon as the gateway refuses it.
    const refused = await ssh(ann, tokenFiles[ann] ?? "", ["-W", `127.0.0.1:${bobPort}`]);
    assert.equal(refused.code, 255);
    assert.match(refused.stderr, /stdio forwarding failed/);
    const notLocal = await ssh(ann, tokenFiles[ann] ?? "", ["-W", `example.invalid:${bobPort}`]);
    assert.equal(notLocal.code, 255);
    const own = await ssh(
      ann,
      tokenFiles[ann] ?? "",
      ["-W", `localhost:${annPort}`],
      "GET /hello.txt HTTP/1.0\r\n\r\n",
    );
    assert.match(own.stdout, /hello from ann/);
    const log = readFileSync(join(p.dirs.log, "ssh.log"), "utf8");
    assert.match(
      log,
      new RegExp(`forward to 127\\.0\\.0\\.1:${bobPort} refused: port ${bobPort} belongs to another user`),
    );
    assert.match(log, /forward to example\.invalid:\d+ refused: example\.invalid is not localhost/);
  });

  it("shows the gateway and open sessions in atrium status", async () => {
    const held = runCommand("sshpass", [
      "-f",
      tokenFiles[bob] ?? "",
      "ssh",
      "-p",
      String(port),
      ...SSH_QUIET,
      ...SSH_BY_PASSWORD,
      `${bob}@127.0.0.1`,
      "sleep 20",
    ]);
    try {
      const out = await waitFor(
        "bob's session in atrium status",
        async () => {
          const r = await p.atrium(["status", "-c", p.configFile]);
          return r.stdout.includes(`${bob} `) ? r.stdout : undefined;
        },
        20_000,
        500,
      );
      assert.match(
        out,
        new RegExp(`^ssh +port ${port}, 1 open session\\(s\\); limits enforced \\(cgroup v1\\)$`, "m"),
      );
      assert.match(out, new RegExp(`^ +${bob} +exec +from 127\\.0\\.0\\.1`, "m"));
      const json = JSON.parse((await p.atrium(["status", "--json", "-c", p.configFile])).stdout) as {
        ssh: { listening: boolean; sessions: Array<{ user: string; kind: string }> };
      };
      assert.equal(json.ssh.listening, true);
      assert.deepEqual(
        json.ssh.sessions.map((s) => [s.user, s.kind]),
        [[bob, "exec"]],
      );
    } finally {
      held.child.kill("SIGTERM");
      await held.done;
    }
  });

  it("keeps a connection open across a redeploy that adds a user, who can then log in", async () => {
    // One connection (as VS Code keeps one) that later sessions ride on: -M with a control socket.
    const socket = join(p.root, "tokens", "ann.control");
    const via = (args: string[]) =>
      runCommand("ssh", ["-S", socket, "-p", String(port), ...SSH_QUIET, `${ann}@127.0.0.1`, ...args], {
        timeoutMs: 60_000,
      }).done;
    const master = runCommand("sshpass", [
      "-f",
      tokenFiles[ann] ?? "",
      "ssh",
      "-M",
      "-S",
      socket,
      "-N",
      "-p",
      String(port),
      ...SSH_QUIET,
      ...SSH_BY_PASSWORD,
      `${ann}@127.0.0.1`,
    ]);
    const cy = p.name("cy");
    try {
      await waitFor(
        "ann's connection",
        async () => ((await via(["-O", "check"])).code === 0 ? true : undefined),
        30_000,
        300,
      );
      const before = await via(["id", "-u"]);
      assert.equal(before.stdout.trim(), idOf(ann, "-u"), before.stderr);
      const gatewayPid = readFileSync(join(p.dirs.state, "run", "ssh.pid"), "utf8").trim();

      const config = structuredClone(p.config) as { users: Array<Record<string, unknown>> };
      config.users.push({ name: cy, groups: [lab] });
      p.writeConfig(config as typeof p.config);
      const r = await p.deploy();
      assert.equal(r.code, 0, r.stdout + r.stderr);

      const after = await via(["id", "-u"]);
      assert.equal(after.code, 0, `the connection opened before the deploy is gone: ${after.stderr}`);
      assert.equal(after.stdout.trim(), idOf(ann, "-u"));
      assert.equal(master.child.exitCode, null, "the connection ended");
      assert.equal(readFileSync(join(p.dirs.state, "run", "ssh.pid"), "utf8").trim(), gatewayPid);
      assert.match(
        readFileSync(join(p.dirs.log, "ssh.log"), "utf8"),
        /SIGHUP: .* re-read \(4 users\)|config changed: .* re-read \(4 users\)/,
      );

      const cyToken = tokenFile(cy, await p.userToken(cy));
      const mine = await ssh(cy, cyToken, ["id", "-u"]);
      assert.equal(mine.code, 0, `the new user can't log in: ${mine.stderr}`);
      assert.equal(mine.stdout.trim(), idOf(cy, "-u"));
    } finally {
      master.child.kill("SIGTERM");
      await master.done;
    }
  });

  it("refuses a wrong token, another user's token, an expired token and non-users", async () => {
    const wrong = tokenFile("wrong", randomBytes(16).toString("hex"));
    const r1 = await ssh(ann, wrong, ["true"]);
    assert.equal(r1.code, 255);
    assert.match(r1.stderr, /Permission denied/);
    assert.equal(
      (await ssh(ann, tokenFiles[bob] ?? "", ["true"])).code,
      255,
      "bob's token opened ann's account",
    );
    const res = await p.hubApi(`/users/${ann}/tokens`, {
      method: "POST",
      body: { note: "short", expires_in: 1 },
    });
    assert.equal(res.status, 201, res.text);
    const expiring = tokenFile("expiring", res.json<{ token: string }>().token);
    await sleep(2500);
    assert.equal((await ssh(ann, expiring, ["true"])).code, 255, "an expired token was accepted");
    const admin = tokenFile("admin", p.adminToken());
    assert.equal((await ssh("root", admin, ["true"])).code, 255, "a non-user logged in");
    const log = readFileSync(join(p.dirs.log, "ssh.log"), "utf8");
    assert.match(
      log,
      /login refused: ".*_ann" from 127\.0\.0\.1 by password: the token belongs to another user/,
    );
    for (const secret of [tokens[ann], tokens[bob], readFileSync(wrong, "utf8").trim(), p.adminToken()]) {
      assert.ok(secret && !log.includes(secret), "a token appears in the gateway's log");
    }
  });

  it("slows a source down after repeated failures", async () => {
    // A success clears the source; then the first failures are answered at once.
    assert.equal((await ssh(ann, tokenFiles[ann] ?? "", ["true"])).code, 0);
    const wrong = tokenFile("wrong2", randomBytes(16).toString("hex"));
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await ssh(ann, wrong, ["true"]);
      assert.equal(r.code, 255);
      times.push(r.seconds);
    }
    const [first = 0, , , fourth = 0, fifth = 0] = times;
    assert.ok(fourth >= first + 0.9, `4th attempt took ${fourth}s, 1st ${first}s: not slowed`);
    assert.ok(fifth >= first + 1.9, `5th attempt took ${fifth}s, 1st ${first}s: not slowed more`);
  });
});
