/**
 * The running platform: the supervisor and its processes. Each process gets a
 * fingerprint made of its own spec and the hashes of the components it depends on;
 * the supervisor restarts exactly the processes whose fingerprint changed, so a
 * deploy with nothing to do restarts nothing; a process whose only change is in what
 * it re-reads (`reloadOn`) gets SIGHUP instead. Apply waits until the platform
 * answers through the proxy.
 */

import { spawn } from "node:child_process";
import { existsSync, openSync, readFileSync } from "node:fs";
import { posix } from "node:path";
import { AtriumError } from "../../../errors.js";
import { hashOf } from "../../../lib/hash.js";
import { pidAlive } from "../../../lib/process.js";
import type { Platform } from "../../../model/platform.js";
import type { Component, Progress } from "../../component.js";
import { artifactJson, SUPERVISOR_FILE } from "../artifact-data.js";
import type { LocalContext } from "../context.js";
import { run } from "../exec.js";
import { writeFileAtomic } from "../fsutil.js";
import { waitForHub } from "../health.js";
import type { LocalPlacement } from "../placement.js";
import { atriumCommand } from "../programs.js";
import { claimablePortWarnings } from "../root-ports.js";
import type { LiveSpec, SupervisorStatus } from "../supervisor.js";
import { renderSupervisor, type SupervisorSpec } from "../supervisor-spec.js";
import { unitName } from "../systemd-unit.js";
import { publicUrl } from "../urls.js";

export function liveSpecPath(placement: LocalPlacement): string {
  return posix.join(placement.paths.runDir, "supervisor.json");
}

export function statusPath(placement: LocalPlacement): string {
  return posix.join(placement.paths.runDir, "status.json");
}

export function readStatus(placement: LocalPlacement): SupervisorStatus | undefined {
  try {
    return JSON.parse(readFileSync(statusPath(placement), "utf8")) as SupervisorStatus;
  } catch {
    return undefined;
  }
}

export function supervisorPid(platform: Platform, placement: LocalPlacement): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(renderSupervisor(platform, placement).pidFile, "utf8"), 10);
    return Number.isInteger(pid) && pidAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What the supervisor runs: the rendered supervisor.json (`spec`) with a fingerprint per
 * process. `componentHashes`: the spec hash of every component, by name.
 */
export function liveSpec(
  placement: LocalPlacement,
  spec: SupervisorSpec,
  componentHashes: Record<string, string>,
): LiveSpec {
  const hashes = (names: string[]) => names.map((c) => componentHashes[c] ?? null);
  const processes = spec.processes.map((p) => ({
    ...p,
    fingerprint: hashOf({ process: p, deps: hashes(p.restartOn) }),
    ...(p.reloadOn ? { reloadFingerprint: hashOf(hashes(p.reloadOn)) } : {}),
  }));
  const live: Omit<LiveSpec, "specHash"> = {
    project: spec.project,
    pidFile: spec.pidFile,
    log: spec.log,
    statusFile: statusPath(placement),
    cgroup: `${placement.cgroupParent}/platform`,
    codeHash: componentHashes["atrium:code"] ?? "unknown",
    processes,
  };
  return { ...live, specHash: hashOf(live) };
}

async function startSupervisor(ctx: LocalContext, spec: SupervisorSpec, progress: Progress): Promise<void> {
  const { platform, placement } = ctx;
  if (ctx.systemd) {
    await run("systemctl", ["start", unitName(platform)]);
    return;
  }
  const [node, script] = atriumCommand();
  const out = openSync(spec.log, "a", 0o640);
  const child = spawn(
    node ?? process.execPath,
    [script ?? "", "supervise", "--spec", liveSpecPath(placement)],
    {
      detached: true,
      stdio: ["ignore", out, out],
      cwd: "/",
    },
  );
  child.unref();
  progress.detail(`supervisor started (pid ${child.pid})`);
}

async function waitForSpec(
  placement: LocalPlacement,
  live: LiveSpec,
  timeoutMs: number,
): Promise<SupervisorStatus> {
  const until = Date.now() + timeoutMs;
  const wanted = new Map(live.processes.map((p) => [p.name, p.fingerprint]));
  for (;;) {
    const status = readStatus(placement);
    // A status left by a supervisor that was killed says nothing about the new one.
    const ready =
      status !== undefined &&
      pidAlive(status.pid) &&
      status.specHash === live.specHash &&
      status.processes.length === wanted.size &&
      status.processes.every((p) => p.state === "running" && wanted.get(p.name) === p.fingerprint);
    if (status && ready) return status;
    if (Date.now() > until) {
      const why = !status
        ? "it wrote no status"
        : status.specHash !== live.specHash
          ? `it still runs an older spec (supervisor pid ${status.pid})`
          : [
              ...status.processes
                .filter((p) => p.state !== "running" || wanted.get(p.name) !== p.fingerprint)
                .map(
                  (p) => `${p.name} (${p.state === "running" ? "old version" : (p.lastError ?? p.state)})`,
                ),
              ...[...wanted.keys()]
                .filter((n) => !status.processes.some((p) => p.name === n))
                .map((n) => `${n} (not started)`),
            ].join(", ");
      throw new AtriumError(
        "apply-failed",
        `the supervisor did not bring every process up: ${why}`,
        `see ${placement.paths.logDir}/*.log, or run atrium logs hub`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A process died while deploy waited for the platform: fail now, quoting its log. */
function crashed(spec: SupervisorSpec, name: string): never {
  const proc = spec.processes.find((p) => p.name === name);
  let tail = "";
  try {
    tail = readFileSync(proc?.log ?? "", "utf8")
      .trimEnd()
      .split("\n")
      .slice(-12)
      .join("\n    ");
  } catch {
    // no log
  }
  throw new AtriumError(
    "apply-failed",
    `${name} stopped while starting; the end of its log:\n    ${tail}`,
    `the supervisor keeps retrying; fix the cause and deploy again (atrium logs ${name})`,
  );
}

type ProcessOutline = { processes: Record<string, string> };

/** Which processes a change starts, restarts or stops, and what that means for the people using them. */
export function explainProcesses(previous: ProcessOutline | undefined, current: ProcessOutline): string[] {
  const before = previous?.processes ?? {};
  const now = current.processes;
  const started = Object.keys(now).filter((n) => before[n] === undefined);
  const restarted = Object.keys(now).filter((n) => before[n] !== undefined && before[n] !== now[n]);
  const stopped = Object.keys(before).filter((n) => now[n] === undefined);
  const lines: string[] = [];
  if (started.length) lines.push(`starts ${started.join(", ")}`);
  if (restarted.length) lines.push(`restarts ${restarted.join(", ")} (config, environment or code changed)`);
  if (stopped.length) lines.push(`stops ${stopped.join(", ")}`);
  if (previous && restarted.includes("hub"))
    lines.push("running user servers and kernels keep running while the hub restarts");
  if (previous && restarted.includes("proxy"))
    lines.push("the platform's URL is unreachable for a few seconds");
  if (lines.length === 0 && previous) lines.push("no process restarts");
  return lines;
}

/**
 * The environment service re-reads the hub's users and groups on SIGUSR1: once the
 * hub runs with the new file, who may use which environment follows it at once.
 */
function tellEnvsToRefresh(placement: LocalPlacement): void {
  const envs = readStatus(placement)?.processes.find((p) => p.name === "envs");
  if (envs?.pid && pidAlive(envs.pid)) process.kill(envs.pid, "SIGUSR1");
}

export function servicesComponent(ctx: LocalContext, componentHashes: Record<string, string>): Component {
  const { platform, placement } = ctx;
  const spec = artifactJson<SupervisorSpec>(ctx.artifacts, SUPERVISOR_FILE);
  const live = liveSpec(placement, spec, componentHashes);
  const outline: ProcessOutline = {
    processes: Object.fromEntries(live.processes.map((p) => [p.name, p.fingerprint])),
  };
  return {
    name: "services",
    title: "supervised processes (proxy, hub, services)",
    spec: { specHash: live.specHash, fingerprints: live.processes.map((p) => [p.name, p.fingerprint]) },
    outline,
    explain: (previous) => explainProcesses(previous as ProcessOutline | undefined, outline),
    present: () => supervisorPid(platform, placement) !== undefined,
    warnings: () => claimablePortWarnings(platform, placement),
    async apply(_previous, progress) {
      writeFileAtomic(liveSpecPath(placement), `${JSON.stringify(live, null, 2)}\n`, 0o600);
      const pid = supervisorPid(platform, placement);
      if (pid === undefined) await startSupervisor(ctx, spec, progress);
      else process.kill(pid, "SIGHUP");
      const status = await waitForSpec(placement, live, 60_000);
      progress.detail(status.processes.map((p) => `${p.name} pid ${p.pid}`).join(", "));
      const restarts = (s: SupervisorStatus | undefined) =>
        new Map((s?.processes ?? []).map((p) => [p.name, p.restarts] as [string, number]));
      const before = restarts(status);
      await waitForHub(placement, 90_000, () => {
        for (const [name, n] of restarts(readStatus(placement))) {
          if (n > (before.get(name) ?? 0)) crashed(spec, name);
        }
      });
      tellEnvsToRefresh(placement);
      return { note: `up at ${publicUrl(placement)}` };
    },
  };
}

export function hasLiveSpec(placement: LocalPlacement): boolean {
  return existsSync(liveSpecPath(placement));
}
