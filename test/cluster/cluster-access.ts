/**
 * Access to the test cluster for tests: its admin kubeconfig, and starting it with up.sh when it
 * is built but not running (then `stop` tears it down again).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
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
