/** `atrium status` for a person: the local platform's status report as lines. */
import type { PlatformStatus } from "./status.js";

function ago(iso: string | null): string {
  if (!iso) return "";
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`;
}

export function statusLines(st: PlatformStatus): string[] {
  const lines: string[] = [];
  const w = (s: string) => lines.push(s);
  w(`platform ${st.project}  ${st.url}  ${st.answering ? "answering" : "NOT ANSWERING"}`);
  w(`auth     ${st.auth}`);
  w(`supervisor ${st.supervisor.pid === null ? "down" : `up, pid ${st.supervisor.pid}`}`);
  for (const p of st.processes) {
    const up = p.state === "running" ? `up ${ago(p.since)}, pid ${p.pid}` : p.state;
    w(`  ${p.name.padEnd(12)} ${up}${p.restarts ? `, ${p.restarts} restarts` : ""}`);
    if (p.lastError && p.state !== "running") w(`  ${"".padEnd(12)} last error: ${p.lastError}`);
  }
  w(
    `limits   ${st.limits.enforced ? `enforced (cgroup ${st.limits.mode})` : `OFF: ${st.limits.reason ?? "cgroups not writable"}`}`,
  );
  if (st.servers === null) {
    w(`servers  unknown${st.serversError ? ` (${st.serversError})` : " (hub not answering)"}`);
  } else if (st.servers.length === 0) {
    w("servers  none running");
  } else {
    w(`servers  ${st.servers.length} running`);
    for (const s of st.servers) {
      w(`  ${s.user.padEnd(16)} ${s.ready ? "ready" : "starting"}  ${s.profile ?? ""}  up ${ago(s.started)}`);
    }
  }
  if (st.daskClusters !== null) {
    if (st.daskClusters.length === 0) w("dask     no clusters");
    else {
      w(`dask     ${st.daskClusters.length} cluster(s)`);
      for (const c of st.daskClusters)
        w(`  ${c.user.padEnd(16)} ${c.name}  ${c.status}, ${c.workers} worker(s)`);
    }
  }
  if (st.ssh) {
    const where = `port ${st.ssh.port}`;
    if (!st.ssh.listening) w(`ssh      ${where}, NOT LISTENING`);
    else {
      w(`ssh      ${where}, ${st.ssh.sessions.length} open session(s); limits ${st.ssh.limits}`);
      for (const s of st.ssh.sessions)
        w(`  ${s.user.padEnd(16)} ${s.kind.padEnd(8)} from ${s.from}  ${ago(s.since)}`);
    }
  }
  const ev = st.envs;
  if (!ev.answering) w(`envs     NOT ANSWERING${ev.error ? ` (${ev.error})` : ""}`);
  else {
    w(
      `envs     ${ev.environments} environment(s), ${ev.building.length} building, ${ev.queued.length} queued, ${ev.failed.length} failed`,
    );
    for (const b of ev.building) w(`  ${b.env.padEnd(28)} build ${b.build} building since ${ago(b.since)}`);
    for (const b of ev.queued) w(`  ${b.env.padEnd(28)} build ${b.build} queued`);
    for (const b of ev.failed)
      w(`  ${b.env.padEnd(28)} build ${b.build} FAILED: ${b.reason} (current: ${b.current ?? "none"})`);
  }
  return lines;
}
