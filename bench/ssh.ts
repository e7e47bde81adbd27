/**
 * The SSH gateway against OpenSSH's own sshd, side by side in one run on this
 * machine, with the same OpenSSH client:
 *  - login-to-first-output latency: `ssh HOST echo ready`, from start to the first
 *    byte on stdout, median of N runs (the gateway with a hub token and with a key;
 *    sshd with a key);
 *  - throughput of copying a 200 MB file with scp, up and down (median of 3).
 * The gateway runs in a throwaway platform deployed with the e2e harness; sshd runs
 * on a free port on 127.0.0.1 with a temporary config, host key and test user.
 *
 * Run as root: node dist/bench/ssh.js [--runs N] [--mb SIZE]
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chownSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { freePorts, makePlatform, sleep, waitFor } from "../test/e2e/harness.js";
import { BY_TOKEN, copy, firstOutput, median, type SshTarget } from "./ssh-measure.js";

const { values } = parseArgs({
  options: { runs: { type: "string", default: "15" }, mb: { type: "string", default: "200" } },
});
const RUNS = Number(values.runs);
const MB = Number(values.mb);

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("run as root");
  const fns: Array<() => unknown> = [];
  const scope = { after: (fn: () => unknown) => fns.push(fn) };
  let sshd: ReturnType<typeof spawn> | undefined;
  let sshdUser: string | undefined;
  let sshdRoot: string | undefined;
  try {
    const p = await makePlatform(scope, {
      config: (n) => ({
        users: [{ name: n.name("admin"), admin: true }, { name: n.name("bench") }],
        dask: { enabled: false },
        videochat: { enabled: false },
      }),
    });
    process.stderr.write(`deploying a throwaway platform in ${p.root} ...\n`);
    const d = await p.deploy();
    if (d.code !== 0) throw new Error(`deploy failed:\n${d.stdout}${d.stderr}`);
    const work = join(p.root, "bench");
    mkdirSync(work, { mode: 0o700 });
    const key = join(work, "id_ed25519");
    spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);
    const pub = readFileSync(`${key}.pub`);
    const keyAuth = [
      "-i",
      key,
      "-o",
      "IdentitiesOnly=yes",
      "-o",
      "PreferredAuthentications=publickey",
      "-o",
      "BatchMode=yes",
    ];

    // The gateway: the platform's bench user, by token and by key.
    const user = p.name("bench");
    const home = join(p.dirs.home, user);
    const st = statSync(home);
    mkdirSync(join(home, ".ssh"), { mode: 0o700 });
    chownSync(join(home, ".ssh"), st.uid, st.gid);
    writeFileSync(join(home, ".ssh", "authorized_keys"), pub, { mode: 0o600 });
    chownSync(join(home, ".ssh", "authorized_keys"), st.uid, st.gid);
    const tokenFile = join(work, "token");
    writeFileSync(tokenFile, `${await p.userToken(user)}\n`, { mode: 0o600 });
    const gatewayPort = (p.config.ssh as { port: number }).port;
    const byToken = BY_TOKEN;

    // OpenSSH's sshd: temporary config, host key and user.
    sshdUser = `atb${randomBytes(3).toString("hex")}`;
    // Outside the platform's root-only work folder, which the user could not enter.
    sshdRoot = `/tmp/atrium-bench-${sshdUser}`;
    mkdirSync(sshdRoot, { mode: 0o755 });
    const sshdHome = join(sshdRoot, "home");
    spawnSync("useradd", ["-m", "-d", sshdHome, "-s", "/bin/bash", sshdUser]);
    spawnSync("usermod", ["-p", "*", sshdUser]); // no password, but not locked (sshd refuses locked accounts)
    const ids = statSync(sshdHome);
    mkdirSync(join(sshdHome, ".ssh"), { mode: 0o700 });
    writeFileSync(join(sshdHome, ".ssh", "authorized_keys"), pub, { mode: 0o600 });
    for (const f of [".ssh", ".ssh/authorized_keys"]) chownSync(join(sshdHome, f), ids.uid, ids.gid);
    const [sshdPort] = (await freePorts(1)) as [number];
    spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(work, "sshd_host_key")]);
    const sshdConfig = join(work, "sshd_config");
    writeFileSync(
      sshdConfig,
      [
        `Port ${sshdPort}`,
        "ListenAddress 127.0.0.1",
        `HostKey ${join(work, "sshd_host_key")}`,
        `PidFile ${join(work, "sshd.pid")}`,
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        `AllowUsers ${sshdUser}`,
        "Subsystem sftp /usr/lib/openssh/sftp-server",
        "",
      ].join("\n"),
    );
    mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
    sshd = spawn("/usr/sbin/sshd", ["-D", "-e", "-f", sshdConfig], { stdio: ["ignore", "ignore", "pipe"] });
    await waitFor(
      "sshd",
      () =>
        readFileSync("/proc/net/tcp", "utf8").includes(
          `:${sshdPort.toString(16).toUpperCase()} 00000000:0000 0A`,
        )
          ? true
          : undefined,
      10_000,
      100,
    );

    const targets: SshTarget[] = [
      {
        label: "atrium gateway, token",
        host: "127.0.0.1",
        port: gatewayPort,
        user,
        auth: byToken,
        wrap: ["sshpass", "-f", tokenFile],
      },
      { label: "atrium gateway, key", host: "127.0.0.1", port: gatewayPort, user, auth: keyAuth, wrap: [] },
      {
        label: "OpenSSH sshd, key",
        host: "127.0.0.1",
        port: sshdPort,
        user: sshdUser,
        auth: keyAuth,
        wrap: [],
      },
    ];

    const latency = new Map<string, number>();
    for (const t of targets) await firstOutput(t); // warm up
    for (const t of targets) {
      const xs: number[] = [];
      for (let i = 0; i < RUNS; i++) xs.push(await firstOutput(t));
      latency.set(t.label, median(xs));
    }

    const file = join(work, "payload.bin");
    const chunk = randomBytes(1024 * 1024);
    writeFileSync(file, Buffer.concat(Array.from({ length: MB }, () => chunk)));
    const throughput = new Map<string, { up: number; down: number }>();
    for (const t of [targets[1], targets[2]] as SshTarget[]) {
      const up: number[] = [];
      const down: number[] = [];
      for (let i = 0; i < 3; i++) {
        up.push(await copy(t, file, "payload.bin", true, MB));
        down.push(await copy(t, file, "payload.bin", false, MB));
      }
      throughput.set(t.label, { up: median(up), down: median(down) });
      await sleep(200);
    }

    const w = (s: string) => process.stdout.write(`${s}\n`);
    const base = latency.get("OpenSSH sshd, key") ?? 1;
    w(`\nlogin to first output (median of ${RUNS}, ms)`);
    for (const t of targets) {
      const ms = latency.get(t.label) ?? 0;
      w(`  ${t.label.padEnd(24)} ${ms.toFixed(1).padStart(8)}   ${(ms / base).toFixed(2)}x sshd`);
    }
    const s = throughput.get("OpenSSH sshd, key") ?? { up: 1, down: 1 };
    w(`\nscp of a ${MB} MB file (median of 3, MB/s)`);
    w(`  ${"".padEnd(24)} ${"upload".padStart(8)} ${"download".padStart(9)}`);
    for (const [label, v] of throughput) {
      w(
        `  ${label.padEnd(24)} ${v.up.toFixed(0).padStart(8)} ${v.down.toFixed(0).padStart(9)}   sshd/this: ${(s.up / v.up).toFixed(2)}x up, ${(s.down / v.down).toFixed(2)}x down`,
      );
    }
  } finally {
    sshd?.kill("SIGTERM");
    if (sshdUser) {
      spawnSync("pkill", ["-KILL", "-u", sshdUser]);
      spawnSync("userdel", ["-r", sshdUser], { stdio: "ignore" });
    }
    if (sshdRoot) rmSync(sshdRoot, { recursive: true, force: true });
    for (const fn of fns.reverse()) await fn();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
