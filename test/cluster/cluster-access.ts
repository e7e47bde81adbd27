/**
 * Access to the test cluster for tests: its admin kubeconfig, and starting it with up.sh when it
 * is built but not running (then `stop` tears it down again).
 */
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, fstatSync, openSync, readSync, statSync } from "node:fs";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { repoPath } from "../../src/paths.js";
import { type ClusterConnection, isNotFound } from "../../src/targets/kubernetes/cluster/connection.js";

export const ADMIN_KUBECONFIG = "/var/lib/atrium-test-cluster/kubeconfig";
const BUILT_STAMP = "/var/cache/atrium-test-cluster/kubernetes-v1.33.13/.done";

export interface TestCluster {
  kc: KubeConfig;
  /** Tears the cluster down if this process started it. */
  stop(): void;
}

function script(name: string): string {
  return repoPath("test", "cluster", name);
}

async function reachable(): Promise<KubeConfig | undefined> {
  if (!existsSync(ADMIN_KUBECONFIG)) return undefined;
  const kc = new KubeConfig();
  kc.loadFromFile(ADMIN_KUBECONFIG);
  try {
    await kc.makeApiClient(CoreV1Api).readNode({ name: "atrium-test" });
    return kc;
  } catch {
    return undefined;
  }
}

/** The running test cluster, started if needed; a string says why there is none. */
export async function testCluster(): Promise<TestCluster | string> {
  if (process.getuid?.() !== 0) return "the test cluster needs root (it runs real daemons)";
  const running = await reachable();
  if (running) return { kc: running, stop: () => {} };
  if (!existsSync(BUILT_STAMP)) {
    return "the test cluster is not built on this machine: run test/cluster/build.sh (20-30 min once)";
  }
  const up = spawnSync("bash", [script("up.sh")], { stdio: ["ignore", "inherit", "inherit"] });
  if (up.status !== 0) throw new Error(`test/cluster/up.sh failed (exit ${up.status}): see its output above`);
  const kc = await reachable();
  if (!kc) throw new Error(`test/cluster/up.sh succeeded but ${ADMIN_KUBECONFIG} does not reach the node`);
  return {
    kc,
    stop: () => {
      const down = spawnSync("bash", [script("down.sh")], { stdio: ["ignore", "inherit", "inherit"] });
      if (down.status !== 0)
        throw new Error(`test/cluster/down.sh failed (exit ${down.status}): the host is not clean`);
    },
  };
}

/** Deletes a test's namespace, and so everything in it; one already gone is fine. */
export async function deleteNamespace(conn: ClusterConnection, name: string): Promise<void> {
  try {
    await conn.objects.delete({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

const CONTAINERD_SOCK = "/run/atrium-test-cluster/containerd.sock";

function ctr(args: string[]): void {
  const r = spawnSync("ctr", ["--address", CONTAINERD_SOCK, "--namespace", "k8s.io", ...args], {
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`ctr ${args.join(" ")} failed (exit ${r.status}): ${r.stderr.trim()}`);
}

/**
 * A second name for an image the node already has, so a test can change an image reference
 * without a registry to pull the new one from; the returned function removes the name again.
 */
export function imageAlias(source: string, alias: string): () => void {
  ctr(["images", "tag", "--force", source, alias]);
  return () => ctr(["images", "rm", alias]);
}

/** The API server's audit log: every write the admin's credentials make (configs.sh's policy). */
export const AUDIT_LOG = "/var/lib/atrium-test-cluster/logs/audit.log";

function auditLogSize(): number {
  if (!existsSync(AUDIT_LOG))
    throw new Error(
      `${AUDIT_LOG} is missing: the test cluster was started before it kept one; run down.sh and up.sh`,
    );
  return statSync(AUDIT_LOG).size;
}

function readFrom(path: string, offset: number): string {
  const fd = openSync(path, "r");
  try {
    const length = fstatSync(fd).size - offset;
    const buf = Buffer.alloc(Math.max(0, length));
    readSync(fd, buf, 0, buf.length, offset);
    return buf.toString("utf8");
  } finally {
    closeSync(fd);
  }
}

/**
 * The write requests (verb and URI) the admin's credentials made to the cluster while `run`
 * ran, as the API server's audit log recorded them; `keep` narrows them (other tests' writes).
 */
export async function adminWritesDuring(
  run: () => Promise<void>,
  keep: (uri: string) => boolean = () => true,
): Promise<string[]> {
  const offset = auditLogSize();
  await run();
  return readFrom(AUDIT_LOG, offset)
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as { verb: string; requestURI: string })
    .filter((event) => keep(event.requestURI))
    .map((event) => `${event.verb} ${event.requestURI}`);
}
