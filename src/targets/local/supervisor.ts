/**
 * The supervisor (`atrium supervise --spec FILE`): runs the platform's processes
 * (proxy, hub, services), restarts them with backoff when they die, and writes pid
 * files, one log file per process and a status file that `atrium status` and deploy
 * read.
 *
 * Must stay true:
 * - A process whose fingerprint did not change is never restarted by a reload (SIGHUP);
 *   one whose reload fingerprint changed gets SIGHUP itself, and so does one it adopts
 *   (it may have missed a reload while no supervisor ran).
 * - A supervisor that starts while its processes are still running (after it was
 *   killed) adopts them instead of starting second copies; so killing the supervisor
 *   stops nothing, and user servers (children of the hub, in their own sessions) are
 *   never touched.
 * - Secrets reach processes through their environment, read from root-only files,
 *   never through command lines.
 */
import { type ChildProcess, spawn } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname } from "node:path";
import { pidAlive } from "../../lib/process.js";
import { joinCgroup } from "./cgroups.js";
import type { ProcessSpec } from "./process-spec.js";
import { resolveProgram } from "./programs.js";

export interface LiveProcessSpec extends ProcessSpec {
  fingerprint: string;
  /** Hash of what `reloadOn` names: when only this changes, the process gets SIGHUP. */
  reloadFingerprint?: string;
}

export interface LiveSpec {
  project: string;
  specHash: string;
  pidFile: string;
  log: string;
  statusFile: string;
  cgroup: string;
  /** Hash of Atrium's own code; a supervisor running other code hands over to a new one. */
  codeHash: string;
  processes: LiveProcessSpec[];
}

export type ProcessState = "starting" | "running" | "backoff" | "stopped";

export interface ProcessStatus {
  name: string;
  pid: number | null;
  state: ProcessState;
  fingerprint: string;
  startedAt: string | null;
  restarts: number;
  lastError: string | null;
  log: string;
}

export interface SupervisorStatus {
  pid: number;
  specHash: string;
  updatedAt: string;
  cgroup: string;
  processes: ProcessStatus[];
}

interface Managed {
  spec: LiveProcessSpec;
  status: ProcessStatus;
  child?: ChildProcess;
  adoptedPoll?: NodeJS.Timeout;
  restartTimer?: NodeJS.Timeout;
  failures: number;
  stopping: boolean;
}

const MARK = "ATRIUM_PROCESS";
const FINGERPRINT = "ATRIUM_FINGERPRINT";

function readPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, "utf8"), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The marker and fingerprint a running process was started with, from /proc. */
function processMarks(pid: number): { mark?: string; fingerprint?: string } {
  try {
    const env = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
    const get = (k: string) => env.find((e) => e.startsWith(`${k}=`))?.slice(k.length + 1);
    return { mark: get(MARK), fingerprint: get(FINGERPRINT) };
  } catch {
    return {};
  }
}

function writeAtomic(file: string, content: string, mode = 0o644): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, content, { mode });
  renameSync(tmp, file);
}

export class Supervisor {
  private managed = new Map<string, Managed>();
  private spec!: LiveSpec;
  private shuttingDown = false;

  private startedWithCode = "";

  constructor(
    private readonly specFile: string,
    /** Spawns the supervisor that takes over when Atrium's code changed. */
    private readonly handOver: (specFile: string) => void = () => {},
  ) {}

  private readSpec(): LiveSpec {
    return JSON.parse(readFileSync(this.specFile, "utf8")) as LiveSpec;
  }

  private log(line: string): void {
    process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  }

  start(): void {
    this.spec = this.readSpec();
    const other = readPid(this.spec.pidFile);
    if (other !== undefined && other !== process.pid && pidAlive(other)) {
      throw new Error(`another supervisor is running (pid ${other})`);
    }
    writeAtomic(this.spec.pidFile, `${process.pid}\n`);
    this.startedWithCode = this.spec.codeHash;
    const cg = this.spec.cgroup ? joinCgroup(this.spec.cgroup, process.pid) : "not used";
    this.log(`supervisor ${process.pid} started; cgroup: ${cg}`);
    process.on("SIGHUP", () => this.reload());
    process.on("SIGTERM", () => void this.shutdown());
    process.on("SIGINT", () => void this.shutdown());
    this.reconcile();
  }

  reload(): void {
    try {
      this.spec = this.readSpec();
      if (this.spec.codeHash !== this.startedWithCode) {
        // Atrium itself was updated: a new supervisor adopts the running processes.
        this.log("Atrium's code changed; handing over to a new supervisor (processes keep running)");
        this.shuttingDown = true;
        for (const m of this.managed.values()) {
          if (m.adoptedPoll) clearInterval(m.adoptedPoll);
          if (m.restartTimer) clearTimeout(m.restartTimer);
          m.child?.unref();
        }
        this.handOver(this.specFile);
        process.exit(0);
      }
      this.log(`reloading ${this.specFile} (${this.spec.specHash})`);
      this.reconcile();
    } catch (err) {
      this.log(`reload failed, keeping the running set: ${(err as Error).message}`);
    }
  }

  /** Bring the running set in line with the spec: start new, restart changed, stop removed. */
  private reconcile(): void {
    const wanted = new Map(this.spec.processes.map((p) => [p.name, p]));
    for (const [name, m] of this.managed) {
      if (!wanted.has(name)) {
        this.log(`${name}: no longer in the spec, stopping`);
        void this.stopOne(m).then(() => this.managed.delete(name));
      }
    }
    for (const spec of this.spec.processes) {
      const m = this.managed.get(spec.name);
      if (!m) {
        const fresh: Managed = {
          spec,
          failures: 0,
          stopping: false,
          status: {
            name: spec.name,
            pid: null,
            state: "starting",
            fingerprint: spec.fingerprint,
            startedAt: null,
            restarts: 0,
            lastError: null,
            log: spec.log,
          },
        };
        this.managed.set(spec.name, fresh);
        if (!this.adopt(fresh)) this.launch(fresh);
      } else if (m.spec.fingerprint !== spec.fingerprint) {
        this.log(`${spec.name}: changed, restarting`);
        m.spec = spec;
        m.status.state = "starting";
        void this.stopOne(m).then(() => {
          m.stopping = false;
          m.failures = 0;
          m.status.fingerprint = spec.fingerprint;
          this.launch(m);
        });
      } else {
        const reload = m.spec.reloadFingerprint !== spec.reloadFingerprint;
        m.spec = spec;
        if (reload) this.sendReload(m, "its config changed");
      }
    }
    this.writeStatus();
  }

  /** SIGHUP to a running process that re-reads its config (one with `reloadOn`). */
  private sendReload(m: Managed, why: string): void {
    const pid = m.status.pid;
    if (!m.spec.reloadOn || m.status.state !== "running" || pid === null) return;
    try {
      process.kill(pid, "SIGHUP");
      this.log(`${m.spec.name}: ${why}, sent SIGHUP to pid ${pid} (reload, no restart)`);
    } catch (err) {
      this.log(`${m.spec.name}: can't send SIGHUP to pid ${pid}: ${(err as Error).message}`);
    }
  }

  /** Take over a process left running by an earlier supervisor, if it is the same one. */
  private adopt(m: Managed): boolean {
    const pid = readPid(m.spec.pidFile);
    if (pid === undefined || !pidAlive(pid)) return false;
    const marks = processMarks(pid);
    if (marks.mark !== `${this.spec.project}/${m.spec.name}`) return false;
    if (marks.fingerprint !== m.spec.fingerprint) {
      this.log(`${m.spec.name}: pid ${pid} runs an older version, replacing it`);
      void this.signalAndWait(pid).then(() => this.launch(m));
      return true;
    }
    this.log(`${m.spec.name}: adopted running pid ${pid}`);
    m.status = { ...m.status, pid, state: "running", startedAt: new Date().toISOString() };
    this.sendReload(m, "adopted");
    m.adoptedPoll = setInterval(() => {
      if (pidAlive(pid)) return;
      clearInterval(m.adoptedPoll);
      m.adoptedPoll = undefined;
      this.exited(m, null, null);
    }, 1000);
    return true;
  }

  private launch(m: Managed): void {
    if (this.shuttingDown) return;
    const { spec } = m;
    const [program, ...args] = resolveProgram(spec.command);
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
      LANG: process.env.LANG ?? "C.UTF-8",
      HOME: process.env.HOME ?? "/root",
      ...spec.env,
      [MARK]: `${this.spec.project}/${spec.name}`,
      [FINGERPRINT]: spec.fingerprint,
    };
    try {
      for (const [key, file] of Object.entries(spec.secretEnv)) env[key] = readFileSync(file, "utf8").trim();
    } catch (err) {
      this.failedToStart(m, `can't read a secret: ${(err as Error).message}`);
      return;
    }
    mkdirSync(dirname(spec.log), { recursive: true });
    const fd = openSync(spec.log, "a", 0o640);
    let child: ChildProcess;
    try {
      child = spawn(program ?? "/bin/false", args, {
        cwd: existsSync(spec.cwd) ? spec.cwd : "/",
        env,
        stdio: ["ignore", fd, fd],
        detached: true,
      });
    } finally {
      closeSync(fd);
    }
    child.on("error", (err) => this.failedToStart(m, err.message));
    if (child.pid === undefined) return;
    m.child = child;
    writeAtomic(spec.pidFile, `${child.pid}\n`);
    m.status = {
      ...m.status,
      pid: child.pid,
      state: "running",
      startedAt: new Date().toISOString(),
      fingerprint: spec.fingerprint,
    };
    this.log(`${spec.name}: started pid ${child.pid}`);
    if (m.status.restarts > 0 && spec.afterRestart) void this.notify(spec.name, spec.afterRestart);
    child.on("exit", (code, signal) => {
      if (m.child === child) this.exited(m, code, signal);
    });
    this.writeStatus();
  }

  /** Make a process's after-restart request, retrying while things come up (up to a minute). */
  private async notify(name: string, call: NonNullable<ProcessSpec["afterRestart"]>): Promise<void> {
    let token: string;
    try {
      token = readFileSync(call.tokenFile, "utf8").trim();
    } catch (err) {
      this.log(`${name}: can't read the token for ${call.url}: ${(err as Error).message}`);
      return;
    }
    for (let attempt = 0; attempt < 120 && !this.shuttingDown; attempt++) {
      await new Promise((r) => setTimeout(r, 500));
      try {
        const res = await fetch(call.url, {
          method: call.method,
          headers: { Authorization: `token ${token}` },
          signal: AbortSignal.timeout(5000),
        });
        await res.body?.cancel();
        if (res.ok) {
          this.log(`${name}: ${call.method} ${call.url} -> ${res.status}`);
          return;
        }
      } catch {
        // not up yet
      }
    }
    this.log(`${name}: ${call.method} ${call.url} did not succeed`);
  }

  private failedToStart(m: Managed, reason: string): void {
    m.status.lastError = reason;
    this.log(`${m.spec.name}: ${reason}`);
    this.exited(m, null, null);
  }

  private exited(m: Managed, code: number | null, signal: NodeJS.Signals | null): void {
    m.child = undefined;
    const ranFor = m.status.startedAt ? Date.now() - Date.parse(m.status.startedAt) : 0;
    m.status.pid = null;
    try {
      unlinkSync(m.spec.pidFile);
    } catch {
      // not there
    }
    if (m.stopping || this.shuttingDown) {
      m.status.state = "stopped";
      this.writeStatus();
      return;
    }
    const how = signal ? `killed by ${signal}` : code === null ? "gone" : `exited with status ${code}`;
    m.status.lastError = `${how} at ${new Date().toISOString()}; see ${m.spec.log}`;
    m.failures = ranFor > 60_000 ? 1 : m.failures + 1;
    const delay = Math.min(30, 2 ** (m.failures - 1));
    m.status.state = "backoff";
    m.status.restarts += 1;
    this.log(`${m.spec.name}: ${how}; restarting in ${delay}s`);
    this.writeStatus();
    m.restartTimer = setTimeout(() => {
      m.restartTimer = undefined;
      if (!m.stopping && !this.shuttingDown) this.launch(m);
    }, delay * 1000);
  }

  private async signalAndWait(pid: number, graceMs = 10_000): Promise<void> {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      return;
    }
    const until = Date.now() + graceMs;
    while (Date.now() < until) {
      if (!pidAlive(pid)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }

  private async stopOne(m: Managed): Promise<void> {
    m.stopping = true;
    if (m.restartTimer) clearTimeout(m.restartTimer);
    if (m.adoptedPoll) clearInterval(m.adoptedPoll);
    m.adoptedPoll = undefined;
    const pid = m.status.pid;
    if (pid !== null) await this.signalAndWait(pid);
    m.child = undefined;
    m.status.pid = null;
    m.status.state = "stopped";
    try {
      unlinkSync(m.spec.pidFile);
    } catch {
      // not there
    }
  }

  async shutdown(): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    this.log("stopping all processes");
    // Proxy last, so the hub can still reach it while it shuts down.
    const order = [...this.managed.values()].sort(
      (a, b) => Number(a.spec.name === "proxy") - Number(b.spec.name === "proxy"),
    );
    for (const m of order) await this.stopOne(m);
    this.writeStatus();
    try {
      unlinkSync(this.spec.pidFile);
    } catch {
      // not there
    }
    this.log("supervisor stopped");
    process.exit(0);
  }

  private writeStatus(): void {
    const status: SupervisorStatus = {
      pid: process.pid,
      specHash: this.spec.specHash,
      updatedAt: new Date().toISOString(),
      cgroup: this.spec.cgroup,
      processes: [...this.managed.values()].map((m) => m.status),
    };
    try {
      writeAtomic(this.spec.statusFile, `${JSON.stringify(status, null, 2)}\n`);
    } catch (err) {
      this.log(`can't write status: ${(err as Error).message}`);
    }
  }
}
