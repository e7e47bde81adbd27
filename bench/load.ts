/**
 * Load: N simulated users, C at a time, on a throwaway platform on this machine
 * (127.0.0.1 only). Each user logs in through the hub's form (a browser-like client
 * keeping cookies), starts their server, runs a cell in a new kernel over the
 * websocket (5*4, expecting 20) and stops the server. Spawn, kernel and stop use a
 * token the admin made for the user beforehand, as the REST API would be used.
 *
 * Prints, per round: throughput (users/min), p50/p95/max of login, spawn (request
 * to ready), first cell (kernel start to result) and stop (request to gone), and
 * the failures; then the memory of one idle user (RSS and PSS of the single-user
 * server's process tree, without and with an idle kernel), and a summary with the
 * largest N that had no failure.
 *
 * Usage: node dist/bench/load.js [N,N,...] [C]    (default 4,8,12,16 and 4)
 * Bounded: N <= 64, C <= 16, 5 minutes per user step, 45 minutes in all.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Browser, processTree, rssKiB, serverPid, spawnServer, stopServer } from "../test/e2e/checks.js";
import { http, type Platform } from "../test/e2e/harness.js";
import { KernelClient } from "../test/e2e/kernel.js";
import { median, percentile, secs, withPlatform } from "./support.js";

const rounds = (process.argv[2] ?? "4,8,12,16").split(",").map(Number);
const concurrency = Number(process.argv[3] ?? 4);
const STEP_MS = 300_000;
const TOTAL_MS = 45 * 60_000;

if (rounds.some((n) => !Number.isInteger(n) || n < 1 || n > 64) || !(concurrency >= 1 && concurrency <= 16)) {
  process.stderr.write("usage: node dist/bench/load.js [N,N,...] [C]   (1 <= N <= 64, 1 <= C <= 16)\n");
  process.exit(2);
}
const maxUsers = Math.max(...rounds);
const deadline = Date.now() + TOTAL_MS;

const STEPS = ["login", "spawn", "first cell", "stop"] as const;
type Step = (typeof STEPS)[number];

interface Round {
  n: number;
  seconds: number;
  done: number;
  failures: string[];
  times: Record<Step, number[]>;
}

function withTimeout<T>(what: string, promise: Promise<T>): Promise<T> {
  const left = Math.min(STEP_MS, deadline - Date.now());
  if (left <= 0) return Promise.reject(new Error("the benchmark's time is up"));
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, fail) => {
      timer = setTimeout(() => fail(new Error(`${what} took more than ${left / 1000} s`)), left);
    }),
  ]);
}

/** One simulated user's session; records each step's time, throws on the first failure. */
async function session(p: Platform, user: string, password: string, token: string, times: Round["times"]) {
  const timed = async <T>(step: Step, fn: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    const value = await withTimeout(`${step} for ${user}`, fn());
    times[step].push(Date.now() - started);
    return value;
  };
  const browser = new Browser(p.url);
  await timed("login", async () => {
    if (!(await browser.login(user, password))) throw new Error("the login form refused the password");
    const home = await browser.request("/hub/home");
    if (home.status !== 200) throw new Error(`/hub/home answered ${home.status} after login`);
  });
  await timed("spawn", () => spawnServer(p, user, token, {}, STEP_MS));
  await timed("first cell", async () => {
    const kernel = await KernelClient.start(`${p.url}/user/${user}`, token);
    try {
      const r = await kernel.execute("5*4", 120_000);
      if (r.status !== "ok" || r.result !== "20")
        throw new Error(`the cell gave ${r.status} ${r.result ?? ""}`);
    } finally {
      kernel.close();
    }
  });
  await timed("stop", () => stopServer(p, user, token, STEP_MS));
}

/** What the hub, the proxy and the user's route say after a failed session, for the report. */
async function diagnose(p: Platform, user: string, token: string): Promise<string> {
  const lines: string[] = [];
  try {
    const r = await http(`${p.url}/user/${user}/api/status`, {
      headers: { Authorization: `token ${token}` },
    });
    lines.push(`route now: ${r.status} (server: ${r.headers.get("server") ?? "-"}) ${r.text.slice(0, 80)}`);
  } catch (err) {
    lines.push(`route now: ${(err as Error).message}`);
  }
  for (const log of ["hub", "proxy"]) {
    try {
      const mine = readFileSync(join(p.dirs.log, `${log}.log`), "utf8")
        .split("\n")
        .filter((l) => l.includes(user) && !/ (200|204) (GET|DELETE) \/hub\/api\/users\//.test(l));
      lines.push(...mine.slice(-8).map((l) => `${log}: ${l.slice(0, 220)}`));
    } catch {
      // no log
    }
  }
  return lines.map((l) => `\n      ${l}`).join("");
}

async function runRound(
  p: Platform,
  n: number,
  users: string[],
  passwords: Map<string, string>,
  tokens: Map<string, string>,
) {
  const round: Round = {
    n,
    seconds: 0,
    done: 0,
    failures: [],
    times: { login: [], spawn: [], "first cell": [], stop: [] },
  };
  const queue = users.slice(0, n);
  const started = Date.now();
  const worker = async () => {
    for (let user = queue.shift(); user !== undefined; user = queue.shift()) {
      try {
        await session(p, user, passwords.get(user) ?? "", tokens.get(user) ?? "", round.times);
        round.done += 1;
      } catch (err) {
        round.failures.push(
          `${user}: ${(err as Error).message.split("\n")[0]}${await diagnose(p, user, tokens.get(user) ?? "")}`,
        );
        // Leave nothing running for the next user or round.
        await stopServer(p, user, undefined, STEP_MS).catch(() => {});
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  round.seconds = (Date.now() - started) / 1000;
  return round;
}

/** Proportional set size in KiB (shared pages split between their users). */
function pssKiB(pid: number): number {
  try {
    return Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;

/** Memory of one idle user: the server's process tree alone, then with one idle kernel. */
async function idleMemory(p: Platform, user: string, token: string): Promise<string> {
  await spawnServer(p, user, token);
  const pid = await serverPid(p, user);
  const measure = () => {
    const tree = processTree(pid);
    return {
      procs: tree.length,
      rss: tree.reduce((s, x) => s + rssKiB(x), 0),
      pss: tree.reduce((s, x) => s + pssKiB(x), 0),
    };
  };
  await new Promise((r) => setTimeout(r, 5000));
  const bare = measure();
  const kernel = await KernelClient.start(`${p.url}/user/${user}`, token);
  await kernel.execute("5*4");
  await new Promise((r) => setTimeout(r, 5000));
  const withKernel = measure();
  kernel.close();
  await stopServer(p, user, token);
  return (
    `Memory of one idle user (process tree of the single-user server):\n` +
    `  server only          RSS ${mib(bare.rss).padEnd(10)} PSS ${mib(bare.pss).padEnd(10)} (${bare.procs} process)\n` +
    `  with an idle kernel  RSS ${mib(withKernel.rss).padEnd(10)} PSS ${mib(withKernel.pss).padEnd(10)} (${withKernel.procs} processes)\n`
  );
}

function report(r: Round): string {
  const row = (step: Step) => {
    const xs = r.times[step];
    return `    ${step.padEnd(12)} ${secs(median(xs)).padEnd(10)} ${secs(percentile(xs, 95)).padEnd(10)} ${secs(Math.max(0, ...xs)).padEnd(10)} (${xs.length})`;
  };
  return (
    `\nN=${r.n} users, concurrency ${Math.min(concurrency, r.n)}: ${r.done} completed in ${r.seconds.toFixed(1)} s\n` +
    `  throughput   ${((r.done / r.seconds) * 60).toFixed(1)} users/min\n` +
    `  failures     ${r.failures.length}${r.failures.map((f) => `\n    ${f}`).join("")}\n` +
    `  latency      p50        p95        max        (samples)\n` +
    `${STEPS.map(row).join("\n")}\n`
  );
}

await withPlatform(
  (n) => ({
    users: [
      { name: n.name("admin"), admin: true },
      ...Array.from({ length: maxUsers }, (_, i) => ({ name: n.name(`u${String(i + 1).padStart(2, "0")}`) })),
    ],
  }),
  async (p) => {
    const deployed = await p.deploy();
    if (deployed.code !== 0) throw new Error(`deploy failed:\n${deployed.stdout}\n${deployed.stderr}`);
    const users = Array.from({ length: maxUsers }, (_, i) => p.name(`u${String(i + 1).padStart(2, "0")}`));
    const passwords = new Map<string, string>();
    const tokens = new Map<string, string>();
    for (const u of users) {
      const pw = `pw-${randomBytes(9).toString("hex")}`;
      await p.setPassword(u, pw);
      passwords.set(u, pw);
      tokens.set(u, await p.userToken(u));
    }
    const cores = readFileSync("/proc/cpuinfo", "utf8").match(/^processor\s*:/gm)?.length ?? 0;
    process.stdout.write(
      `Load on this machine (${cores} cores), ${maxUsers} users in the file, rounds N=${rounds.join(",")}, C=${concurrency}\n`,
    );
    process.stdout.write(await idleMemory(p, users[0] ?? "", tokens.get(users[0] ?? "") ?? ""));
    const results: Round[] = [];
    for (const n of rounds) {
      if (Date.now() > deadline) {
        process.stdout.write(`\nN=${n}: skipped, the benchmark's ${TOTAL_MS / 60_000} minutes are up\n`);
        continue;
      }
      const r = await runRound(p, n, users, passwords, tokens);
      results.push(r);
      process.stdout.write(report(r));
    }
    const p95 = (r: Round, s: Step) => (percentile(r.times[s], 95) / 1000).toFixed(1);
    process.stdout.write(
      `\nSummary (C=${concurrency}; p95 in seconds)\n` +
        `  N    users/min  failures  login  spawn  cell   stop\n` +
        results
          .map(
            (r) =>
              `  ${String(r.n).padEnd(4)} ${((r.done / r.seconds) * 60).toFixed(1).padEnd(10)} ${String(r.failures.length).padEnd(9)} ${p95(r, "login").padEnd(6)} ${p95(r, "spawn").padEnd(6)} ${p95(r, "first cell").padEnd(6)} ${p95(r, "stop")}`,
          )
          .join("\n") +
        "\n",
    );
    const clean = results.filter((r) => r.failures.length === 0).map((r) => r.n);
    process.stdout.write(
      `Largest N with zero failures: ${clean.length > 0 ? Math.max(...clean) : "none"} (of ${results.map((r) => r.n).join(", ")})\n`,
    );
  },
);
