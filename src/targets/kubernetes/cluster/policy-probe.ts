/**
 * Whether the cluster enforces NetworkPolicies, found by trying: in a short-lived
 * namespace of its own (`atrium-probe-<random>`, labelled as Atrium's) a client pod
 * must first reach a server pod through its Service, so a probe that cannot connect at
 * all is never taken for enforcement; then a policy denies all ingress to the server,
 * and the client must be refused within a window. The plain bridge CNI accepts the
 * policy and enforces nothing; a policy controller (Calico, Cilium, kube-router) cuts
 * the client off within a second or two.
 *
 * What must stay true: the probe's namespace is the only thing it makes, and it is
 * deleted whatever happens (error, timeout); it is bounded (setup gets the overall
 * timeout less the window); a probe that cannot decide (pods never ran, an image not
 * pullable, no rights) says "could not be checked: <why>", never "enforced". One
 * result per cluster and image for the process.
 */

import { randomBytes } from "node:crypto";
import { CoreV1Api, type KubernetesObject, type V1Namespace, type V1Pod } from "@kubernetes/client-node";
import { asClientModel } from "./client-model.js";
import { apiMessage, type ClusterConnection, FIELD_MANAGER, isNotFound } from "./connection.js";
import {
  PROBE_CLIENT,
  PROBE_LABELS,
  PROBE_SERVER,
  probeClientPod,
  probeDenyPolicy,
  probeNamespace,
  probeServerPod,
  probeService,
  REACHED,
} from "./policy-probe-objects.js";

export interface PolicyProbeOptions {
  /** The python image both pods run (the target's images.hub). */
  image: string;
  /** Bound on the whole probe, deletion aside. Default 60 s. */
  timeoutMs?: number;
  /** How long the client may still reach the server once the policy is in place. Default 20 s. */
  windowMs?: number;
  /** false: no deny policy, only the connectivity check (the client should keep reaching). Default true. */
  deny?: boolean;
}

export interface PolicyProbeResult {
  enforced: boolean;
  /** false: the probe could not decide; `detail` starts "could not be checked: ". */
  checked: boolean;
  detail: string;
  /** The probe's namespace (deleted by the time the result is given). */
  namespace: string;
  seconds: number;
}

type Outcome = Pick<PolicyProbeResult, "enforced" | "checked" | "detail">;

const PROBE_PREFIX = "atrium-probe-";
/** Consecutive refused attempts that show the policy is enforced. */
const BLOCKED_RUN = 3;
/** A probe namespace older than this was left by a killed run: the next probe deletes it. */
const LEFTOVER_MS = 10 * 60_000;
const DELETE_TIMEOUT_MS = 15_000;
// Container states that will not turn into a running pod within the probe's time.
const STUCK = new Set([
  "ErrImagePull",
  "ImagePullBackOff",
  "ErrImageNeverPull",
  "InvalidImageName",
  "CreateContainerConfigError",
  "CreateContainerError",
  "RunContainerError",
  "CrashLoopBackOff",
]);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `work`'s value, or `fallback()` once `ms` have passed; the timer never outlives it (plan exits at once). */
async function within<T>(work: Promise<T>, ms: number, fallback: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback()), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
const unchecked = (why: string): Outcome => ({
  enforced: false,
  checked: false,
  detail: `could not be checked: ${why}`,
});
const secondsSince = (t: number) => ((Date.now() - t) / 1000).toFixed(1);

/** A pod's phase and why it is not running, in one line ("probe-server: Pending (ErrImagePull: ...)"). */
function podState(pod: V1Pod): { line: string; stuck: boolean } {
  const name = pod.metadata?.name ?? "?";
  const reasons: string[] = [];
  let stuck = pod.status?.phase === "Failed" || pod.status?.phase === "Succeeded";
  for (const c of pod.status?.containerStatuses ?? []) {
    const waiting = c.state?.waiting;
    const ended = c.state?.terminated;
    if (waiting?.reason) {
      if (STUCK.has(waiting.reason)) stuck = true;
      reasons.push(waiting.message ? `${waiting.reason}: ${waiting.message}` : waiting.reason);
    }
    if (ended) reasons.push(`exited ${ended.exitCode}${ended.reason ? ` (${ended.reason})` : ""}`);
  }
  const unscheduled = pod.status?.conditions?.find((c) => c.type === "PodScheduled" && c.status === "False");
  if (unscheduled?.reason) reasons.push(`${unscheduled.reason}: ${unscheduled.message ?? ""}`.trim());
  const why = reasons.length ? ` (${reasons.join("; ")})` : "";
  return { line: `pod ${name} ${pod.status?.phase ?? "not started"}${why}`, stuck };
}

class Probe {
  private readonly core: CoreV1Api;
  private stopped = false;
  /** What the pods were doing when last looked at, for a timeout's message. */
  seen = "no pod made yet";

  constructor(
    private readonly conn: ClusterConnection,
    readonly namespace: string,
    private readonly options: Required<PolicyProbeOptions>,
  ) {
    this.core = conn.config.makeApiClient(CoreV1Api);
  }

  stop() {
    this.stopped = true;
  }

  private async create<T extends KubernetesObject>(obj: T, what: string): Promise<T> {
    if (this.stopped) throw new Error("the probe was stopped");
    try {
      return await this.conn.objects.create(asClientModel(obj), undefined, undefined, FIELD_MANAGER);
    } catch (err) {
      throw new ProbeFailure(`the cluster refused ${what}: ${apiMessage(err)}`);
    }
  }

  private async clientLines(): Promise<string[]> {
    try {
      const log = await this.core.readNamespacedPodLog({ name: PROBE_CLIENT, namespace: this.namespace });
      return log.split("\n").filter((l) => l !== "");
    } catch {
      return []; // no log before the container starts
    }
  }

  /** Throws when a pod will not run; remembers their states. */
  private async checkPods(): Promise<void> {
    const lines: string[] = [];
    for (const name of [PROBE_SERVER, PROBE_CLIENT]) {
      let pod: V1Pod;
      try {
        pod = await this.core.readNamespacedPod({ name, namespace: this.namespace });
      } catch (err) {
        throw new ProbeFailure(`can't read pod ${this.namespace}/${name}: ${apiMessage(err)}`);
      }
      const state = podState(pod);
      if (state.stuck) throw new ProbeFailure(`${state.line}`);
      lines.push(state.line);
    }
    this.seen = lines.join("; ");
  }

  async run(): Promise<Outcome> {
    const { namespace } = this;
    const { image, timeoutMs, windowMs, deny } = this.options;
    const started = Date.now();
    const setupEnd = started + Math.max(timeoutMs - windowMs, 0);
    await this.create(probeNamespace(namespace), `making the probe's namespace ${namespace}`);
    await this.create(probeServerPod(namespace, image), "making the probe's server pod");
    const service = await this.create(probeService(namespace), "making the probe's Service");
    const host = (service.spec as { clusterIP?: string } | undefined)?.clusterIP;
    if (!host || host === "None") throw new ProbeFailure("the probe's Service got no cluster IP");
    await this.create(probeClientPod(namespace, image, host), "making the probe's client pod");

    // The connectivity check: without it a broken probe would look like enforcement.
    for (;;) {
      if (this.stopped) return unchecked("stopped");
      if ((await this.clientLines()).includes(REACHED)) break;
      await this.checkPods();
      if (Date.now() > setupEnd)
        return unchecked(
          `the client pod did not reach the server within ${secondsSince(started)} s: ${this.seen}`,
        );
      await sleep(500);
    }
    const mark = (await this.clientLines()).length;
    if (deny) await this.create(probeDenyPolicy(namespace), "making the probe's NetworkPolicy");
    const applied = Date.now();
    const windowEnd = applied + windowMs;
    for (;;) {
      if (this.stopped) return unchecked("stopped");
      const after = (await this.clientLines()).slice(mark);
      const last = after.slice(-BLOCKED_RUN);
      if (last.length === BLOCKED_RUN && !last.includes(REACHED)) {
        return deny
          ? {
              enforced: true,
              checked: true,
              detail: `a pod reached another's server, and was refused ${secondsSince(applied)} s after a NetworkPolicy denied it (${last.at(-1)})`,
            }
          : unchecked(`the client lost the server with no policy in place (${last.at(-1)})`);
      }
      if (Date.now() > windowEnd) {
        await this.checkPods();
        if (!after.includes(REACHED)) return unchecked(`the client stopped answering: ${this.seen}`);
        const seconds = (windowMs / 1000).toFixed(0);
        return {
          enforced: false,
          checked: true,
          detail: deny
            ? `a pod still reached another's server ${seconds} s after a NetworkPolicy denied it`
            : `the client kept reaching the server for ${seconds} s (no policy applied)`,
        };
      }
      await sleep(500);
    }
  }
}

/** An expected reason the probe cannot decide. */
class ProbeFailure extends Error {}

async function deleteNamespace(conn: ClusterConnection, name: string): Promise<string | undefined> {
  const header: V1Namespace = { apiVersion: "v1", kind: "Namespace", metadata: { name } };
  for (let attempt = 1; ; attempt++) {
    try {
      await conn.objects.delete(header, undefined, undefined, 0, undefined, "Background");
      return undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      if (attempt === 3) return apiMessage(err);
      await sleep(1000);
    }
  }
}

/** Deletes probe namespaces a killed run left (older than LEFTOVER_MS); best effort, as listing may not be allowed. */
async function deleteLeftovers(conn: ClusterConnection): Promise<void> {
  const selector = Object.entries(PROBE_LABELS)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  try {
    const list = await conn.objects.list<V1Namespace>(
      "v1",
      "Namespace",
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      selector,
    );
    for (const ns of list.items) {
      const name = ns.metadata?.name ?? "";
      const made = ns.metadata?.creationTimestamp;
      const age = made ? Date.now() - new Date(made).getTime() : 0;
      if (name.startsWith(PROBE_PREFIX) && age > LEFTOVER_MS && !ns.metadata?.deletionTimestamp)
        await deleteNamespace(conn, name);
    }
  } catch {
    // not allowed to list namespaces: leftovers stay until someone deletes them
  }
}

/** Runs the probe once, uncached; see the module comment. Never throws for the cluster's answers. */
export async function runPolicyProbe(
  conn: ClusterConnection,
  options: PolicyProbeOptions,
): Promise<PolicyProbeResult> {
  const opts = { timeoutMs: 60_000, windowMs: 20_000, deny: true, ...options };
  const started = Date.now();
  await deleteLeftovers(conn);
  const probe = new Probe(conn, `${PROBE_PREFIX}${randomBytes(4).toString("hex")}`, opts);
  const ran = probe.run().catch((err: unknown) => {
    if (err instanceof ProbeFailure) return unchecked(err.message);
    return unchecked(`the probe failed: ${apiMessage(err)}`);
  });
  const outcome = await within(ran, opts.timeoutMs, () =>
    unchecked(`the probe did not finish within ${opts.timeoutMs / 1000} s: ${probe.seen}`),
  );
  probe.stop();
  // a call still under way when the time ran out ends before the namespace goes (its loops look each half second)
  await within<Outcome | undefined>(ran, 5000, () => undefined);
  const left = await within(deleteNamespace(conn, probe.namespace), DELETE_TIMEOUT_MS, () => "no answer");
  const detail =
    left === undefined
      ? outcome.detail
      : `${outcome.detail} (its namespace ${probe.namespace} could not be deleted: ${left}; delete it with kubectl delete namespace ${probe.namespace})`;
  return { ...outcome, detail, namespace: probe.namespace, seconds: (Date.now() - started) / 1000 };
}

const results = new Map<string, Promise<PolicyProbeResult>>();

/** Whether the cluster enforces NetworkPolicies: the probe's result, run once per cluster and image in this process. */
export function probeNetworkPolicy(
  conn: ClusterConnection,
  options: PolicyProbeOptions,
): Promise<PolicyProbeResult> {
  const key = JSON.stringify([conn.server, conn.context, options]);
  let result = results.get(key);
  if (!result) {
    result = runPolicyProbe(conn, options);
    results.set(key, result);
  }
  return result;
}
