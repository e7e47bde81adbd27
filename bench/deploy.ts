/**
 * Deploy timings and the platform's idle memory, on a throwaway platform:
 *  - cold deploy on a fresh prefix with an empty uv cache (so uv itself is
 *    installed from PyPI into the prefix, as on every fresh machine),
 *  - no-op redeploys (median of 5),
 *  - redeploys that add one user (median of 3),
 *  - resident memory of the platform's own processes when idle.
 * Usage: node dist/bench/deploy.js
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ConfigObject, Platform } from "../test/e2e/harness.js";
import { ATRIUM, runCommand } from "../test/e2e/harness.js";
import { median, secs, withPlatform } from "./support.js";

async function timedDeploy(p: Platform, env: NodeJS.ProcessEnv = p.env): Promise<number> {
  const started = Date.now();
  const r = await runCommand(process.execPath, [ATRIUM, "deploy", "-c", p.configFile], {
    timeoutMs: 1_800_000,
    env,
  }).done;
  if (r.code !== 0) throw new Error(`deploy failed:\n${r.stdout}\n${r.stderr}`);
  return Date.now() - started;
}

function rssKiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return Number(m?.[1] ?? 0);
  } catch {
    return 0;
  }
}

function children(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) out.push(Number(entry), ...children(Number(entry)));
    } catch {
      // gone
    }
  }
  return out;
}

function idleMemory(p: Platform): Array<[string, number]> {
  const status = JSON.parse(readFileSync(join(p.dirs.state, "run", "status.json"), "utf8")) as {
    pid: number;
    processes: Array<{ name: string; pid: number | null }>;
  };
  const rows: Array<[string, number]> = [["supervisor", rssKiB(status.pid)]];
  for (const proc of status.processes) {
    if (proc.pid === null) continue;
    const tree = [proc.pid, ...children(proc.pid)];
    rows.push([proc.name, tree.reduce((sum, pid) => sum + rssKiB(pid), 0)]);
  }
  return rows;
}

await withPlatform(
  (n) => ({ users: [{ name: n.name("admin"), admin: true }] }),
  async (p) => {
    const cold = await timedDeploy(p);
    process.stdout.write(`cold deploy: ${secs(cold)}\n`);
    const plan = await p.atrium(["plan", "-c", p.configFile]);
    const pending = plan.stdout.split("\n").filter((l) => /^[+~-] /.test(l));
    if (pending.length > 0)
      process.stdout.write(`left to do after the cold deploy:\n${pending.join("\n")}\n`);
    const noop: number[] = [];
    for (let i = 0; i < 5; i++) noop.push(await timedDeploy(p));
    process.stdout.write(`no-op redeploys: ${noop.map(secs).join(", ")}\n`);
    const addUser: number[] = [];
    for (let i = 0; i < 3; i++) {
      const config = p.config as ConfigObject & { users: unknown[] };
      config.users.push({ name: p.name(`new${i}`) });
      p.writeConfig(config);
      addUser.push(await timedDeploy(p));
    }
    process.stdout.write(`add-one-user redeploys: ${addUser.map(secs).join(", ")}\n`);
    await new Promise((r) => setTimeout(r, 10_000));
    const memory = idleMemory(p);
    const total = memory.reduce((s, [, kib]) => s + kib, 0);
    process.stdout.write(
      `\nDeploy on this machine:\n` +
        `  cold deploy (fresh prefix, empty uv cache, uv from PyPI): ${secs(cold)}\n` +
        `  no-op redeploy: median ${secs(median(noop))} (aim < 2 s)\n` +
        `  add-one-user redeploy: median ${secs(median(addUser))} (aim < 10 s)\n` +
        `Idle resident memory of the platform's processes (no user servers): ${(total / 1024).toFixed(0)} MiB\n` +
        memory.map(([name, kib]) => `  ${name.padEnd(14)} ${(kib / 1024).toFixed(0)} MiB`).join("\n") +
        "\n",
    );
  },
  { seedUvCache: false },
);
