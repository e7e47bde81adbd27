/**
 * What the SSH benchmarks measure, one way for every gateway: login-to-first-output
 * (`ssh HOST echo ready`, from start to the first byte on stdout) and one scp copy's
 * throughput, with the OpenSSH client.
 */
import { spawn } from "node:child_process";
import { runCommand } from "../test/e2e/harness.js";
import { SSH_QUIET } from "../test/e2e/ssh-options.js";

export interface SshTarget {
  label: string;
  host: string;
  port: number;
  user: string;
  /** Authentication options for ssh/scp, and the program to put in front (sshpass). */
  auth: string[];
  wrap: string[];
}

/** Log in with a password (a hub token) only. */
export const BY_TOKEN = ["-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password"];

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
};

/** Milliseconds from starting `ssh ... echo ready` to its first byte of output. */
export function firstOutput(t: SshTarget): Promise<number> {
  return new Promise((resolve, reject) => {
    const args = [
      ...t.wrap,
      "ssh",
      "-p",
      String(t.port),
      ...SSH_QUIET,
      ...t.auth,
      `${t.user}@${t.host}`,
      "echo ready",
    ];
    const started = process.hrtime.bigint();
    const child = spawn(args[0] ?? "", args.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    let seen = false;
    let err = "";
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    child.stdout.once("data", () => {
      seen = true;
      resolve(Number(process.hrtime.bigint() - started) / 1e6);
    });
    child.on("close", (code) => {
      if (!seen) reject(new Error(`${t.label}: ssh exited ${code}: ${err}`));
    });
  });
}

/** MB/s of one scp copy of `mb` MB (`up`: local -> server). */
export async function copy(
  t: SshTarget,
  file: string,
  remote: string,
  up: boolean,
  mb: number,
): Promise<number> {
  const [src, dst] = up
    ? [file, `${t.user}@${t.host}:${remote}`]
    : [`${t.user}@${t.host}:${remote}`, `${file}.down`];
  const argv = [...t.wrap, "scp", "-P", String(t.port), ...SSH_QUIET, ...t.auth, src, dst];
  const r = await runCommand(argv[0] ?? "scp", argv.slice(1), { timeoutMs: 600_000 }).done;
  if (r.code !== 0) throw new Error(`${t.label}: scp exited ${r.code}: ${r.stderr}`);
  return mb / r.seconds;
}

/** Median login latency over `runs` (after one warm-up), and median scp up/down MB/s over 3 copies. */
export async function measure(
  t: SshTarget,
  runs: number,
  file: string,
  mb: number,
): Promise<{ loginMs: number; up: number; down: number }> {
  await firstOutput(t);
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) xs.push(await firstOutput(t));
  const up: number[] = [];
  const down: number[] = [];
  for (let i = 0; i < 3; i++) {
    up.push(await copy(t, file, "payload.bin", true, mb));
    down.push(await copy(t, file, "payload.bin", false, mb));
  }
  return { loginMs: median(xs), up: median(up), down: median(down) };
}
