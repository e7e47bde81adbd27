import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Writable } from "node:stream";
import { after, describe, it } from "node:test";
import ssh2 from "ssh2";
import type { SshServiceConfig } from "../../src/contracts/ssh-service.js";
import { encodeEd25519, generateEd25519 } from "../../src/lib/openssh-key.js";
import {
  parseAuthorizedKeys,
  readAuthorizedKeys,
  unsafeReason,
} from "../../src/services/ssh/authorized-keys.js";
import { acceptedEnvName, sessionEnv, shmSize, userCommand } from "../../src/services/ssh/launch.js";
import { cpuWrites, memoryWrites, pidsWrites } from "../../src/services/ssh/limits.js";
import {
  decideForward,
  formatIpv6,
  parseProcNetTcp,
  peerOwner,
  type SocketEntry,
} from "../../src/services/ssh/proc-net.js";
import { ptyArgv } from "../../src/services/ssh/pty.js";
import { FailureLimiter, LoginThrottle } from "../../src/services/ssh/rate-limit.js";
import { userDirectory } from "../../src/services/ssh/users.js";

const TCP4 = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1001        0 1111 1 0000000000000000 100 0 0 10 0
   1: 00000000:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1002        0 2222 1 0000000000000000 100 0 0 10 0
   2: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1001        0 3333 1 0000000000000000 20 4 30 10 -1
   3: 0100007F:C350 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 4444 1 0000000000000000 20 4 30 10 -1
`;

const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:1F92 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1001        0 5555 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000000000000:1F93 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1003        0 6666 1 0000000000000000 100 0 0 10 0
   2: 0000000000000000FFFF00000100007F:1F93 0000000000000000FFFF00000100007F:D000 01 00000000:00000000 00:00000000 00000000  1003        0 7777 1 0000000000000000 20 4 30 10 -1
`;

const sockets = (): SocketEntry[] => [...parseProcNetTcp(TCP4, 4), ...parseProcNetTcp(TCP6, 6)];

describe("/proc/net/tcp parsing", () => {
  it("reads addresses, ports, states and owners of IPv4 sockets", () => {
    assert.deepEqual(parseProcNetTcp(TCP4, 4).slice(0, 2), [
      {
        family: 4,
        localAddress: "127.0.0.1",
        localPort: 8080,
        remoteAddress: "0.0.0.0",
        remotePort: 0,
        state: 0x0a,
        uid: 1001,
      },
      {
        family: 4,
        localAddress: "0.0.0.0",
        localPort: 8081,
        remoteAddress: "0.0.0.0",
        remotePort: 0,
        state: 0x0a,
        uid: 1002,
      },
    ]);
  });

  it("reads IPv6 addresses, including v4-mapped ones", () => {
    assert.deepEqual(
      parseProcNetTcp(TCP6, 6).map((s) => [s.localAddress, s.localPort, s.remoteAddress, s.uid]),
      [
        ["::1", 8082, "::", 1001],
        ["::", 8083, "::", 1003],
        ["::ffff:127.0.0.1", 8083, "::ffff:127.0.0.1", 1003],
      ],
    );
  });

  it("formats IPv6 addresses canonically", () => {
    const bytes = (hex: string) => hex.match(/../g)?.map((b) => Number.parseInt(b, 16)) ?? [];
    assert.equal(formatIpv6(bytes("20010db8000000000000000000000001")), "2001:db8::1");
    assert.equal(formatIpv6(bytes("fe800000000000000202b3fffe1e8329")), "fe80::202:b3ff:fe1e:8329");
    assert.equal(formatIpv6(bytes("20010db8000100000001000100010001")), "2001:db8:1:0:1:1:1:1");
  });

  it("skips the header and broken lines", () => {
    assert.deepEqual(parseProcNetTcp("header\n   0: zz:1 00000000:0000 0A 0 0 0 1 0 1\n\n", 4), []);
  });
});

describe("local forwarding rule", () => {
  it("allows a port on 127.0.0.1 that the user listens on", () => {
    assert.deepEqual(decideForward("127.0.0.1", 8080, 1001, sockets()), { allow: true, host: "127.0.0.1" });
  });

  it("refuses a port another user listens on, even through 0.0.0.0", () => {
    assert.deepEqual(decideForward("127.0.0.1", 8081, 1001, sockets()), {
      allow: false,
      reason: "port 8081 belongs to another user",
    });
  });

  it("refuses hosts other than localhost", () => {
    for (const host of ["10.0.0.1", "example.org", "0.0.0.0", "127.0.0.2"]) {
      assert.equal(decideForward(host, 8080, 1001, sockets()).allow, false, host);
    }
  });

  it("refuses a port nobody listens on", () => {
    assert.deepEqual(decideForward("localhost", 9999, 1001, sockets()), {
      allow: false,
      reason: "nothing listens on port 9999",
    });
  });

  it("resolves localhost to the family where the user's socket listens", () => {
    assert.deepEqual(decideForward("localhost", 8082, 1001, sockets()), { allow: true, host: "::1" });
    assert.deepEqual(decideForward("[::1]", 8082, 1001, sockets()), { allow: true, host: "::1" });
    assert.equal(decideForward("127.0.0.1", 8082, 1001, sockets()).allow, false);
  });

  it("counts a v6 wildcard socket as listening on 127.0.0.1 too", () => {
    assert.deepEqual(decideForward("127.0.0.1", 8083, 1003, sockets()), { allow: true, host: "127.0.0.1" });
    assert.equal(decideForward("127.0.0.1", 8083, 1001, sockets()).allow, false);
  });

  it("finds the owner of the server side of an accepted connection", () => {
    assert.equal(peerOwner(8080, 50000, sockets()), 1001);
    assert.equal(peerOwner(8083, 0xd000, sockets()), 1003);
    assert.equal(peerOwner(8080, 50001, sockets()), undefined);
  });
});

describe("failed-login rate limiter", () => {
  const opts = { freeFailures: 3, baseDelayMs: 1000, maxDelayMs: 8000, forgetAfterMs: 60_000 };

  it("answers at once for the first failures, then doubles the delay up to the cap", () => {
    const limiter = new FailureLimiter(opts, () => 0);
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      delays.push(limiter.delayFor("10.1.1.1"));
      limiter.fail("10.1.1.1");
    }
    assert.deepEqual(delays, [0, 0, 0, 1000, 2000, 4000, 8000]);
    assert.equal(limiter.delayFor("10.1.1.1"), 8000);
  });

  it("keeps sources apart, clears a source on success and forgets it after a quiet while", () => {
    let now = 0;
    const limiter = new FailureLimiter(opts, () => now);
    for (let i = 0; i < 4; i++) limiter.fail("a");
    limiter.fail("b");
    assert.equal(limiter.delayFor("a"), 2000);
    assert.equal(limiter.delayFor("b"), 0);
    limiter.succeed("a");
    assert.equal(limiter.failures("a"), 0);
    for (let i = 0; i < 4; i++) limiter.fail("c");
    now = 60_001;
    assert.equal(limiter.delayFor("c"), 0);
  });
});

describe("login throttle per address and account", () => {
  const opts = { freeFailures: 3, baseDelayMs: 1000, maxDelayMs: 30_000, forgetAfterMs: 60_000 };

  it("keeps counting an attacker's guesses at the victim after she logs in as herself", () => {
    const throttle = new LoginThrottle(opts, () => 0);
    for (let i = 0; i < 6; i++) throttle.fail("127.0.0.1", "victim");
    const before = throttle.delayFor("127.0.0.1", "victim");
    throttle.succeed("127.0.0.1", "attacker");
    assert.equal(before, 8000);
    assert.equal(throttle.delayFor("127.0.0.1", "victim"), before);
  });

  it("never makes a correct login at another account wait for failures from the same address", () => {
    const throttle = new LoginThrottle(opts, () => 0);
    for (let i = 0; i < 20; i++) throttle.fail("127.0.0.1", `guess${i % 3}`);
    assert.equal(throttle.delayFor("127.0.0.1", "victim"), 0);
    assert.ok(throttle.delayFor("127.0.0.1", "guess0") > 0);
  });

  it("slows guesses at one account spread over many addresses", () => {
    const throttle = new LoginThrottle(opts, () => 0);
    for (let i = 0; i < 12; i++) throttle.fail(`10.0.0.${i}`, "victim");
    assert.equal(throttle.delayFor("10.0.0.200", "victim"), 1000);
    assert.equal(throttle.delayFor("10.0.0.200", "someone"), 0);
  });
});

describe("authorized_keys", () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const uid = process.getuid?.() ?? 0;
  const KEY = "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";

  function home(fileMode = 0o600, sshMode = 0o700): string {
    const dir = mkdtempSync(join(tmpdir(), "atrium-keys-"));
    dirs.push(dir);
    chmodSync(dir, 0o700);
    mkdirSync(join(dir, ".ssh"));
    chmodSync(join(dir, ".ssh"), sshMode);
    writeFileSync(join(dir, ".ssh", "authorized_keys"), `# mine\nssh-ed25519 ${KEY} me@laptop\n`);
    chmodSync(join(dir, ".ssh", "authorized_keys"), fileMode);
    return dir;
  }

  it("parses plain key lines and skips lines with options", () => {
    assert.deepEqual(
      parseAuthorizedKeys(`ssh-ed25519 ${KEY} a\n\n# c\ncommand="ls" ssh-ed25519 ${KEY}\nssh-rsa ***\n`),
      {
        keys: [{ type: "ssh-ed25519", data: KEY, line: 1 }],
        problems: ["line 4: options are not supported; the key is ignored", "line 5: the key is not base64"],
      },
    );
  });

  it("refuses files of another owner or writable by group or others", () => {
    assert.equal(unsafeReason("f", { uid: 1000, mode: 0o100600 }, 1000), undefined);
    assert.equal(unsafeReason("f", { uid: 0, mode: 0o100600 }, 1000), "f is owned by uid 0, not 1000");
    assert.equal(
      unsafeReason("f", { uid: 1000, mode: 0o100620 }, 1000),
      "f is writable by its group (mode 620)",
    );
    assert.equal(
      unsafeReason("f", { uid: 1000, mode: 0o100602 }, 1000),
      "f is writable by others (mode 602)",
    );
  });

  it("reads the keys of a safe file", () => {
    assert.deepEqual(readAuthorizedKeys(home(), uid), {
      keys: [{ type: "ssh-ed25519", data: KEY, line: 2 }],
      problems: [],
    });
  });

  it("ignores a world-writable file or ~/.ssh, and a file owned by someone else", () => {
    assert.match(readAuthorizedKeys(home(0o666), uid).problems[0] ?? "", /authorized_keys is writable by/);
    assert.match(readAuthorizedKeys(home(0o600, 0o777), uid).problems[0] ?? "", /~\/\.ssh is writable by/);
    assert.match(readAuthorizedKeys(home(), uid + 1).problems[0] ?? "", /owned by uid/);
  });

  it("does not follow a link in place of the file", () => {
    const dir = home();
    const target = join(dir, "elsewhere");
    writeFileSync(target, `ssh-ed25519 ${KEY}\n`, { mode: 0o600 });
    rmSync(join(dir, ".ssh", "authorized_keys"));
    symlinkSync(target, join(dir, ".ssh", "authorized_keys"));
    const r = readAuthorizedKeys(dir, uid);
    assert.deepEqual(r.keys, []);
    assert.match(r.problems[0] ?? "", /ELOOP/);
  });
});

describe("session processes", () => {
  const account = { name: "ann", uid: 1234, gid: 1235, home: "/home/ann", shell: "/bin/zsh" };

  it("switches user with setpriv, joining the cgroups first while still root", () => {
    assert.deepEqual(userCommand("/usr/bin/setpriv", account, ["/bin/zsh", "-l"], []), {
      command: "/usr/bin/setpriv",
      args: ["--reuid=1234", "--regid=1235", "--init-groups", "--", "/bin/zsh", "-l"],
    });
    const { command, args } = userCommand(
      "/usr/bin/setpriv",
      account,
      ["id"],
      ["/cg/memory/procs", "/cg/cpu/procs"],
    );
    assert.equal(command, "/bin/sh");
    assert.deepEqual(args.slice(2), [
      "atrium-session",
      "/cg/memory/procs",
      "/cg/cpu/procs",
      "--",
      "/usr/bin/setpriv",
      "--reuid=1234",
      "--regid=1235",
      "--init-groups",
      "--",
      "id",
    ]);
  });

  it("gives a session its own /dev/shm, half the memory limit, before it joins the cgroups", () => {
    const { command, args } = userCommand("/usr/bin/setpriv", account, ["id"], ["/cg/memory/procs"], {
      unshare: "/usr/bin/unshare",
      size: shmSize(2048),
    });
    assert.equal(command, "/usr/bin/unshare");
    assert.deepEqual(args.slice(0, 6), ["--mount", "--propagation", "slave", "--", "/bin/sh", "-c"]);
    assert.match(args[6] ?? "", /mount -t tmpfs .* \/dev\/shm .*exec "\$@"/);
    assert.deepEqual(args.slice(7, 11), ["atrium-session", "1024", "/cg/memory/procs", "--"]);
    assert.equal(shmSize(null), 0);
    const unlimited = userCommand("/usr/bin/setpriv", account, ["id"], [], {
      unshare: "/usr/bin/unshare",
      size: 0,
    });
    assert.deepEqual(unlimited.args.slice(7, 10), ["atrium-session", "", "--"]);
  });

  it("builds the environment from scratch with the user env's bin first on PATH", () => {
    const env = sessionEnv({
      account,
      pathPrepend: ["/opt/atrium/venvs/user/bin"],
      path: "/usr/bin:/bin",
      client: { address: "10.0.0.5", port: 50000 },
      server: { address: "0.0.0.0", port: 8022 },
      term: "xterm-256color",
      extra: { LANG: "de_DE.UTF-8", HOME: "/etc" },
    });
    assert.deepEqual(env, {
      LANG: "de_DE.UTF-8",
      HOME: "/home/ann",
      USER: "ann",
      LOGNAME: "ann",
      SHELL: "/bin/zsh",
      PATH: "/opt/atrium/venvs/user/bin:/usr/bin:/bin",
      SSH_CLIENT: "10.0.0.5 50000 8022",
      SSH_CONNECTION: "10.0.0.5 50000 0.0.0.0 8022",
      TERM: "xterm-256color",
    });
    assert.equal(acceptedEnvName("LC_ALL"), true);
    assert.equal(acceptedEnvName("LD_PRELOAD"), false);
  });

  it("writes memory and CPU limits in an order the kernel accepts", () => {
    const limits = {
      mem_limit: 2048,
      mem_guarantee: 1024,
      cpu_limit: 1.5,
      cpu_guarantee: 0.5,
      pids_limit: 300,
    };
    assert.deepEqual(memoryWrites(limits, true), [
      ["memory.memsw.limit_in_bytes", "-1"],
      ["memory.limit_in_bytes", "2048"],
      ["memory.memsw.limit_in_bytes", "2048"],
      ["memory.soft_limit_in_bytes", "1024"],
      ["memory.oom_control", "0"],
    ]);
    assert.deepEqual(cpuWrites(limits), [
      ["cpu.cfs_period_us", "100000"],
      ["cpu.cfs_quota_us", "150000"],
      ["cpu.shares", "512"],
    ]);
    const none = {
      mem_limit: null,
      mem_guarantee: null,
      cpu_limit: null,
      cpu_guarantee: null,
      pids_limit: 4096,
    };
    assert.deepEqual(memoryWrites(none, false), [
      ["memory.limit_in_bytes", "-1"],
      ["memory.soft_limit_in_bytes", "-1"],
      ["memory.oom_control", "0"],
    ]);
    assert.deepEqual(cpuWrites(none)[1], ["cpu.cfs_quota_us", "-1"]);
    assert.deepEqual(pidsWrites(limits), [["pids.max", "300"]]);
  });

  it("runs a program on a real terminal of the asked size, and resizes it", async () => {
    const [python, ...args] = ptyArgv(["/bin/sh", "-c", "tty; stty size; read line; stty size; exit 5"], {
      rows: 33,
      cols: 101,
      width: 0,
      height: 0,
    });
    const child = spawn(python ?? "", args, { stdio: ["pipe", "pipe", "pipe", "pipe"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      if (out.includes("33 101") && !out.includes("resized")) {
        out += "resized";
        (child.stdio[3] as Writable).write("r 40 120 0 0\n");
        setTimeout(() => child.stdin.write("go\n"), 100);
      }
    });
    const code = await new Promise<number | null>((ok) => child.on("close", ok));
    assert.equal(code, 5, out);
    assert.match(out, /^\/dev\/pts\/\d+\r\n33 101\r\n/);
    assert.match(out, /40 120\r\n/);
  });
});

describe("host key format", () => {
  it("writes ed25519 keys in OpenSSH's formats, readable by ssh2 and usable for signatures", () => {
    for (let i = 0; i < 64; i++) {
      const pair = generateEd25519("atrium-test");
      const key = ssh2.utils.parseKey(pair.private);
      assert.ok(!(key instanceof Error), `key ${i} does not parse: ${pair.private}`);
      if (key instanceof Error) return;
      assert.equal(`${key.type} ${key.getPublicSSH().toString("base64")} atrium-test`, pair.public);
      const sig = key.sign(Buffer.from("hello"));
      const pub = ssh2.utils.parseKey(pair.public);
      assert.ok(!(pub instanceof Error) && pub.verify(Buffer.from("hello"), sig));
    }
  });

  it("keeps a leading zero byte of the public key", () => {
    const pub = Buffer.alloc(32, 7);
    pub[0] = 0;
    const pair = encodeEd25519(Buffer.alloc(32, 1), pub, "", Buffer.from([1, 2, 3, 4]));
    const blob = Buffer.from(pair.public.split(" ")[1] ?? "", "base64");
    assert.equal(blob.length, 4 + 11 + 4 + 32);
    assert.deepEqual(blob.subarray(19), pub);
    assert.match(
      pair.private,
      /^-----BEGIN OPENSSH PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+\n-----END OPENSSH PRIVATE KEY-----\n$/,
    );
  });
});

describe("SSH user directory", () => {
  it("knows the file's users and, with single sign-on, those the hub recorded", () => {
    const dir = mkdtempSync(join(tmpdir(), "atrium-ssh-users-"));
    try {
      const file = join(dir, "oidc-accounts.json");
      const limits = {
        mem_limit: 1024,
        mem_guarantee: null,
        cpu_limit: 1,
        cpu_guarantee: null,
        pids_limit: 4096,
      };
      const base = {
        users: [{ name: "ada", home: "/home/ada", shell: "/bin/bash", profile: "small", limits }],
      } as unknown as SshServiceConfig;
      assert.equal(userDirectory({ ...base, sign_on: null }).get("grace"), undefined);
      const withSignOn = userDirectory({
        ...base,
        sign_on: { accounts_file: file, profile: "open", limits },
      });
      assert.equal(withSignOn.get("ada")?.home, "/home/ada");
      assert.equal(withSignOn.get("grace"), undefined);
      writeFileSync(file, JSON.stringify({ version: 1, accounts: { grace: { claim: "g", created: true } } }));
      assert.deepEqual(withSignOn.get("grace"), {
        name: "grace",
        home: "",
        shell: "",
        profile: "open",
        limits,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
