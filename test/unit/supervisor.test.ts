/**
 * The supervisor with real processes: starts them, restarts one that dies, restarts
 * only what a reload changed (SIGHUP where only what a process re-reads changed),
 * and adopts what a killed supervisor left running.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pidAlive } from "../../src/lib/process.js";
import { repoPath } from "../../src/paths.js";
import type { LiveSpec, SupervisorStatus } from "../../src/targets/local/supervisor.js";

const dir = mkdtempSync(join(tmpdir(), "atrium-supervisor-"));
const specFile = join(dir, "spec.json");
const statusFile = join(dir, "status.json");

/** Where process `name` notes each SIGHUP it gets. */
const hups = (name: string) => join(dir, `${name}.hups`);

/** `reload`: reload fingerprints of the processes that re-read their config on SIGHUP. */
function spec(
  fingerprints: Record<string, string>,
  codeHash = "code-1",
  reload: Record<string, string> = {},
): LiveSpec {
  return {
    codeHash,
    project: `sup${process.pid}`,
    specHash: Object.values(fingerprints).join("-"),
    pidFile: join(dir, "supervisor.pid"),
    log: join(dir, "supervisor.log"),
    statusFile,
    cgroup: "",
    processes: Object.entries(fingerprints).map(([name, fingerprint]) => ({
      name,
      command: ["/bin/sh", "-c", `trap 'echo hup >> "$0"' HUP; while :; do sleep 0.1; done`, hups(name)],
      env: {},
      secretEnv: {},
      cwd: dir,
      log: join(dir, `${name}.log`),
      pidFile: join(dir, `${name}.pid`),
      restartOn: [],
      fingerprint,
      ...(reload[name] ? { reloadOn: ["artifact:config"], reloadFingerprint: reload[name] } : {}),
    })),
  };
}

function status(): SupervisorStatus | undefined {
  try {
    return JSON.parse(readFileSync(statusFile, "utf8")) as SupervisorStatus;
  } catch {
    return undefined;
  }
}

async function until<T>(what: string, fn: () => T | undefined, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const pidOf = (name: string) =>
  status()?.processes.find((p) => p.name === name && p.state === "running")?.pid ?? undefined;

function startSupervisor(): ChildProcess {
  return spawn(process.execPath, [repoPath("bin", "atrium.js"), "supervise", "--spec", specFile], {
    stdio: "ignore",
    detached: true,
  });
}

describe("supervisor", () => {
  let sup: ChildProcess;
  const pids: number[] = [];
  before(() => {
    writeFileSync(specFile, JSON.stringify(spec({ a: "1", b: "1" })));
    sup = startSupervisor();
  });
  after(() => {
    for (const pid of [sup.pid, ...pids]) {
      try {
        if (pid) process.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("starts every process and records its pid", async () => {
    const a = await until("a", () => pidOf("a"));
    const b = await until("b", () => pidOf("b"));
    pids.push(a, b);
    assert.equal(readFileSync(join(dir, "a.pid"), "utf8").trim(), String(a));
    assert.ok(pidAlive(b));
  });

  it("restarts a process that dies", async () => {
    const a = await until("a", () => pidOf("a"));
    process.kill(a, "SIGKILL");
    const again = await until("a restarted", () => {
      const p = pidOf("a");
      return p !== undefined && p !== a ? p : undefined;
    });
    pids.push(again);
    assert.equal(status()?.processes.find((p) => p.name === "a")?.restarts, 1);
  });

  it("on reload restarts only the process whose fingerprint changed", async () => {
    const a = await until("a", () => pidOf("a"));
    const b = await until("b", () => pidOf("b"));
    writeFileSync(specFile, JSON.stringify(spec({ a: "1", b: "2" })));
    process.kill(sup.pid ?? 0, "SIGHUP");
    const b2 = await until("b replaced", () => {
      const p = pidOf("b");
      return p !== undefined && p !== b && status()?.specHash === "1-2" ? p : undefined;
    });
    pids.push(b2);
    assert.equal(pidOf("a"), a);
    assert.ok(!pidAlive(b));
  });

  it("on reload sends SIGHUP instead of restarting when only what a process re-reads changed", async () => {
    const a = await until("a", () => pidOf("a"));
    const b = await until("b", () => pidOf("b"));
    writeFileSync(specFile, JSON.stringify(spec({ a: "1", b: "2" }, "code-1", { a: "config-2" })));
    process.kill(sup.pid ?? 0, "SIGHUP");
    await until("a's SIGHUP", () => (existsSync(hups("a")) ? true : undefined));
    assert.equal(readFileSync(hups("a"), "utf8"), "hup\n");
    assert.equal(pidOf("a"), a);
    assert.equal(pidOf("b"), b);
    assert.equal(existsSync(hups("b")), false, "b got SIGHUP, though nothing of it changed");
  });

  it("a new supervisor adopts what a killed one left running", async () => {
    const a = await until("a", () => pidOf("a"));
    const b = await until("b", () => pidOf("b"));
    process.kill(sup.pid ?? 0, "SIGKILL");
    await until("old supervisor gone", () => (pidAlive(sup.pid ?? 0) ? undefined : true));
    rmSync(statusFile);
    sup = startSupervisor();
    await until("new status", () =>
      status()?.pid === sup.pid && pidOf("a") && pidOf("b") ? true : undefined,
    );
    assert.equal(pidOf("a"), a);
    assert.equal(pidOf("b"), b);
    // a re-reads its config: it may have missed a reload while no supervisor ran
    await until("a's second SIGHUP", () =>
      readFileSync(hups("a"), "utf8") === "hup\nhup\n" ? true : undefined,
    );
  });

  it("hands over to a new supervisor when Atrium's code changed, keeping the processes", async () => {
    const a = await until("a", () => pidOf("a"));
    const b = await until("b", () => pidOf("b"));
    const old = sup.pid ?? 0;
    writeFileSync(specFile, JSON.stringify(spec({ a: "1", b: "2" }, "code-2")));
    process.kill(old, "SIGHUP");
    await until("old supervisor gone", () => (pidAlive(old) ? undefined : true));
    const next = await until("a new supervisor", () => {
      const s = status();
      return s && s.pid !== old && pidAlive(s.pid) ? s.pid : undefined;
    });
    assert.equal(pidOf("a"), a);
    assert.equal(pidOf("b"), b);
    sup = { pid: next } as ChildProcess;
  });

  it("stops its processes on SIGTERM", async () => {
    const a = await until("a", () => pidOf("a"));
    process.kill(sup.pid ?? 0, "SIGTERM");
    await until("a stopped", () => (pidAlive(a) ? undefined : true));
    await until("supervisor exited", () => (pidAlive(sup.pid ?? 0) ? undefined : true));
  });
});
