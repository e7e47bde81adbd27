/**
 * Spawn latency through a hub's REST API, for the benchmarks that set Atrium's hub beside a
 * plain one: start a user's default server, time until the hub says it is ready, stop it and
 * wait until it is gone; spawns alternate between the hubs so that load affects all alike.
 */
import { http } from "../test/e2e/harness.js";
import { median, percentile, secs } from "./support.js";

export interface Hub {
  name: string;
  /** The hub's REST API, .../hub/api. */
  api: string;
  token: string;
}

export async function hubApi(hub: Hub, method: string, path: string, body?: unknown) {
  return http(`${hub.api}${path}`, {
    method,
    headers: { Authorization: `token ${hub.token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** Milliseconds from the spawn request to the server being ready, then stop it and wait. */
export async function timeSpawn(hub: Hub, user: string): Promise<number> {
  const started = Date.now();
  const r = await hubApi(hub, "POST", `/users/${user}/server`, {});
  if (![201, 202].includes(r.status)) throw new Error(`${hub.name}: spawn answered ${r.status} ${r.text}`);
  for (;;) {
    const m = (await hubApi(hub, "GET", `/users/${user}`)).json<{
      servers?: Record<string, { ready: boolean }>;
    }>();
    if (m.servers?.[""]?.ready) break;
    if (Date.now() - started > 300_000) throw new Error(`${hub.name}: server not ready after 300 s`);
    await new Promise((res) => setTimeout(res, 50));
  }
  const elapsed = Date.now() - started;
  await hubApi(hub, "DELETE", `/users/${user}/server`);
  for (;;) {
    const m = (await hubApi(hub, "GET", `/users/${user}`)).json<{ servers?: Record<string, unknown> }>();
    if (!m.servers?.[""]) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  return elapsed;
}

/** `spawns` spawns on each hub, alternating which goes first; a line per spawn; the times by hub name. */
export async function alternateSpawns(
  hubs: [Hub, Hub],
  user: string,
  spawns: number,
): Promise<Record<string, number[]>> {
  const times: Record<string, number[]> = Object.fromEntries(hubs.map((h) => [h.name, []]));
  for (let i = 0; i < spawns; i++) {
    for (const hub of i % 2 === 0 ? hubs : [...hubs].reverse()) {
      const t = await timeSpawn(hub, user);
      times[hub.name]?.push(t);
      process.stdout.write(`spawn ${i + 1} ${hub.name}: ${secs(t)}\n`);
    }
  }
  return times;
}

/** Median and p95 of two sets of times and their ratios, as text. */
export function spawnSummary(a: readonly number[], b: readonly number[]) {
  const stat = (xs: readonly number[]) => ({ median: median(xs), p95: percentile(xs, 95) });
  const [sa, sb] = [stat(a), stat(b)];
  return {
    a: sa,
    b: sb,
    medianRatio: (sa.median / sb.median).toFixed(2),
    p95Ratio: (sa.p95 / sb.p95).toFixed(2),
  };
}
