/** Pods for cluster tests: made and awaited through the API, commands run in them through exec. */
import { PassThrough } from "node:stream";
import { CoreV1Api, Exec, type KubeConfig, type V1Pod, type V1Status } from "@kubernetes/client-node";

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Calls get every half second until it returns a value; throws after the given seconds. */
export async function poll<T>(what: string, seconds: number, get: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await get();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not after ${seconds} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

function describePod(pod: V1Pod): string {
  const states = (pod.status?.containerStatuses ?? []).map((c) => JSON.stringify(c.state));
  return `phase ${pod.status?.phase}, containers ${states.join(", ") || "none"}`;
}

/** Waits until the pod is Running and ready ("ready"), or has ended (Succeeded/Failed) either way. */
export async function waitForPod(
  kc: KubeConfig,
  namespace: string,
  name: string,
  until: "ready" | "ended" = "ready",
  seconds = 90,
): Promise<V1Pod> {
  const core = kc.makeApiClient(CoreV1Api);
  let last: V1Pod | undefined;
  try {
    return await poll(`pod ${namespace}/${name} ${until}`, seconds, async () => {
      last = await core.readNamespacedPod({ name, namespace });
      const phase = last.status?.phase;
      if (phase === "Succeeded" || phase === "Failed") return last;
      const ready = last.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";
      return until === "ready" && phase === "Running" && ready ? last : undefined;
    });
  } catch (err) {
    throw new Error(`${(err as Error).message} (${last ? describePod(last) : "never seen"})`);
  }
}

export async function podLogs(kc: KubeConfig, namespace: string, name: string): Promise<string> {
  return kc.makeApiClient(CoreV1Api).readNamespacedPodLog({ name, namespace });
}

function exitCode(status: V1Status | undefined): number {
  if (status?.status === "Success") return 0;
  const cause = status?.details?.causes?.find((c) => c.reason === "ExitCode");
  return cause?.message ? Number(cause.message) : -1;
}

/** Runs a command in the pod's first container and waits for it to end. */
export async function execInPod(
  kc: KubeConfig,
  namespace: string,
  pod: string,
  command: string[],
): Promise<ExecResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on("data", (d: Buffer) => out.push(d));
  stderr.on("data", (d: Buffer) => err.push(d));
  let status: V1Status | undefined;
  const ws = await new Exec(kc).exec(namespace, pod, "main", command, stdout, stderr, null, false, (s) => {
    status = s;
  });
  await new Promise<void>((resolve, reject) => {
    ws.on("close", () => resolve());
    ws.on("error", reject);
  });
  return {
    code: exitCode(status),
    stdout: Buffer.concat(out).toString(),
    stderr: Buffer.concat(err).toString(),
  };
}
