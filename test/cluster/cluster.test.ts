/**
 * The test cluster does what the Kubernetes target relies on: pods run the pinned images with the
 * uid/gid they are given, reach each other through Services and cluster DNS, NetworkPolicies are
 * really enforced, and nothing in a pod reaches off the machine. Needs root and a built cluster
 * (test/cluster/build.sh); starts it with up.sh when it is not running, and then tears it down.
 */

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:net";
import { after, before, describe, test } from "node:test";
import {
  CoreV1Api,
  type KubeConfig,
  NetworkingV1Api,
  type V1Container,
  type V1Pod,
  type V1PodSecurityContext,
} from "@kubernetes/client-node";
import { type TestCluster, testCluster } from "./cluster-access.js";
import { imagePins } from "./images.js";
import { execInPod, podLogs, waitForPod } from "./pods.js";
import { startUplinkPeer } from "./uplink-peer.js";

const NAMESPACE = `atrium-ct-${randomBytes(3).toString("hex")}`;
const PYTHON_IMAGE = imagePins().python.image;

/** Prints the HTTP status of a GET, or "timeout" / "refused" / "error:..." */
const HTTP_PROBE = `
import socket, sys, urllib.request
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=float(sys.argv[2])).status)
except Exception as e:
    r = getattr(e, "reason", e)
    print("timeout" if isinstance(r, TimeoutError) else "refused" if isinstance(r, ConnectionRefusedError) else "error:%r" % (r,))
`;
/** Prints "open" when a TCP connection is accepted, or "timeout" / "refused" / "error:..." */
const TCP_PROBE = `
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3])).close()
    print("open")
except TimeoutError:
    print("timeout")
except ConnectionRefusedError:
    print("refused")
except OSError as e:
    print("error:%r" % (e,))
`;
const DNS_PROBE = `
import socket, sys
try:
    print(sorted({a[4][0] for a in socket.getaddrinfo(sys.argv[1], 443, socket.AF_INET)}))
except socket.gaierror as e:
    print("unresolved:%s" % (e,))
`;

function pod(
  name: string,
  labels: Record<string, string>,
  container: Omit<V1Container, "name" | "image">,
  identity: V1PodSecurityContext = { runAsUser: 1000, runAsGroup: 1000 },
): V1Pod {
  return {
    metadata: { name, labels },
    spec: {
      restartPolicy: "Never",
      terminationGracePeriodSeconds: 1,
      securityContext: {
        ...identity,
        runAsNonRoot: true,
        seccompProfile: { type: "RuntimeDefault" },
      },
      containers: [
        {
          name: "main",
          image: PYTHON_IMAGE,
          imagePullPolicy: "IfNotPresent",
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
          ...container,
        },
      ],
    },
  };
}

/** The uplink's address of this host (the interface of the default route). */
function uplinkAddress(): string {
  const [route] = JSON.parse(execFileSync("ip", ["-j", "route", "show", "default"], { encoding: "utf8" }));
  const [link] = JSON.parse(
    execFileSync("ip", ["-j", "-4", "addr", "show", "dev", route.dev], { encoding: "utf8" }),
  );
  return link.addr_info[0].local;
}

/** The TCP probe run on the host. */
function hostConnects(host: string, port: number): string {
  return execFileSync("/usr/bin/python3", ["-c", TCP_PROBE, host, String(port), "3"], {
    encoding: "utf8",
  }).trim();
}

/** Runs the probe until its output passes `want` (policies take a moment to be programmed); returns the last output. */
async function probeUntil(
  kc: KubeConfig,
  want: (output: string) => boolean,
  seconds: number,
  command: string[],
): Promise<string> {
  const deadline = Date.now() + seconds * 1000;
  let last = "";
  do {
    last = (await execInPod(kc, NAMESPACE, "client", command)).stdout.trim();
    if (want(last)) return last;
  } while (Date.now() < deadline);
  return last;
}

const answers = (output: string) => output === "200";
/** kube-router rejects what a policy denies (connection refused); a dropping enforcer times out. */
const blocked = (output: string) => output === "refused" || output === "timeout";

describe("the test cluster", { timeout: 600_000 }, () => {
  let cluster: TestCluster | undefined;
  let unavailable = "";
  let kc: KubeConfig;
  let webUrl = "";

  before(async () => {
    const found = await testCluster();
    if (typeof found === "string") {
      unavailable = found;
      return;
    }
    cluster = found;
    kc = found.kc;
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespace({
      body: { metadata: { name: NAMESPACE, labels: { "atrium.test/cluster-test": "true" } } },
    });
    await core.createNamespacedPod({
      namespace: NAMESPACE,
      body: pod(
        "web",
        { app: "web" },
        {
          command: ["python3", "-m", "http.server", "8000"],
          workingDir: "/tmp",
          readinessProbe: { tcpSocket: { port: 8000 }, periodSeconds: 1 },
        },
      ),
    });
    await core.createNamespacedPod({
      namespace: NAMESPACE,
      body: pod("client", { app: "client" }, { command: ["sleep", "infinity"] }),
    });
    const service = await core.createNamespacedService({
      namespace: NAMESPACE,
      body: {
        metadata: { name: "web" },
        spec: { selector: { app: "web" }, ports: [{ port: 80, targetPort: 8000 }] },
      },
    });
    webUrl = `http://${service.spec?.clusterIP}/`;
    await waitForPod(kc, NAMESPACE, "web");
    await waitForPod(kc, NAMESPACE, "client");
  });

  after(async () => {
    if (!cluster) return;
    try {
      const core = kc.makeApiClient(CoreV1Api);
      await core.deleteNamespace({ name: NAMESPACE });
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline) {
        try {
          await core.readNamespace({ name: NAMESPACE });
        } catch {
          break;
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
    } finally {
      cluster.stop();
    }
  });

  test("a pod of the uv image runs as the uid, gid and groups it is given", async (t) => {
    if (!cluster) return t.skip(unavailable);
    const body = pod(
      "id",
      { app: "id" },
      { command: ["id"] },
      { runAsUser: 4242, runAsGroup: 4343, supplementalGroups: [4444] },
    );
    await kc.makeApiClient(CoreV1Api).createNamespacedPod({ namespace: NAMESPACE, body });
    const done = await waitForPod(kc, NAMESPACE, "id", "ended");
    assert.equal(done.status?.phase, "Succeeded");
    assert.equal((await podLogs(kc, NAMESPACE, "id")).trim(), "uid=4242 gid=4343 groups=4343,4444");
    const uv = await execInPod(kc, NAMESPACE, "client", ["uv", "--version"]);
    assert.match(uv.stdout, new RegExp(`^uv ${imagePins().python.uv.replaceAll(".", "\\.")} `));
  });

  test("a pod reaches another pod through its ClusterIP Service", async (t) => {
    if (!cluster) return t.skip(unavailable);
    assert.equal(await probeUntil(kc, answers, 10, ["python3", "-c", HTTP_PROBE, webUrl, "3"]), "200");
  });

  test("a NodePort Service answers on the host's 127.0.0.1", async (t) => {
    if (!cluster) return t.skip(unavailable);
    const service = await kc.makeApiClient(CoreV1Api).createNamespacedService({
      namespace: NAMESPACE,
      body: {
        metadata: { name: "web-nodeport" },
        spec: { type: "NodePort", selector: { app: "web" }, ports: [{ port: 80, targetPort: 8000 }] },
      },
    });
    const port = service.spec?.ports?.[0]?.nodePort;
    assert.ok(port, "the Service got no node port");
    let status = 0;
    const deadline = Date.now() + 10_000;
    while (status !== 200 && Date.now() < deadline) {
      status = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) }).then(
        (r) => r.status,
        () => 0,
      );
      if (status !== 200) await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(status, 200);
  });

  test("a NetworkPolicy denying ingress blocks that traffic, and it flows again once deleted", async (t) => {
    if (!cluster) return t.skip(unavailable);
    const net = kc.makeApiClient(NetworkingV1Api);
    const probe = ["python3", "-c", HTTP_PROBE, webUrl, "2"];
    assert.equal(
      await probeUntil(kc, answers, 10, probe),
      "200",
      "the Service must answer before the policy",
    );
    await net.createNamespacedNetworkPolicy({
      namespace: NAMESPACE,
      body: {
        metadata: { name: "deny-web-ingress" },
        spec: { podSelector: { matchLabels: { app: "web" } }, policyTypes: ["Ingress"] },
      },
    });
    const denied = await probeUntil(kc, blocked, 30, probe);
    assert.ok(blocked(denied), `NetworkPolicy not enforced: the web pod still answers (${denied})`);
    await net.deleteNamespacedNetworkPolicy({ namespace: NAMESPACE, name: "deny-web-ingress" });
    assert.equal(
      await probeUntil(kc, answers, 30, probe),
      "200",
      "traffic did not come back after the policy was deleted",
    );
  });

  test("a pod reaches neither the internet, nor a peer on another interface, nor the host's ports", async (t) => {
    if (!cluster) return t.skip(unavailable);
    const tcp = async (host: string, port: number) =>
      (
        await execInPod(kc, NAMESPACE, "client", ["python3", "-c", TCP_PROBE, host, String(port), "3"])
      ).stdout.trim();
    // The probe can succeed: the API server's Service is open to pods.
    assert.equal(await tcp("10.96.0.1", 443), "open");
    assert.equal(await tcp("1.1.1.1", 443), "timeout");
    // A peer that routes back through the host would answer if the host forwarded pods' packets.
    const peer = await startUplinkPeer();
    const server: Server = createServer((s) => s.end());
    try {
      assert.equal(hostConnects(peer.address, peer.port), "open", "the host itself must reach the peer");
      assert.equal(await tcp(peer.address, peer.port), "timeout");
      await new Promise<void>((r) => server.listen(0, "0.0.0.0", r));
      const port = (server.address() as { port: number }).port;
      assert.equal(await tcp(uplinkAddress(), port), "timeout");
      assert.equal(await tcp("10.244.0.1", port), "timeout");
    } finally {
      server.close();
      peer.stop();
    }
  });

  test("cluster DNS resolves kubernetes.default.svc.cluster.local and nothing outside the cluster", async (t) => {
    if (!cluster) return t.skip(unavailable);
    const dns = (name: string) => execInPod(kc, NAMESPACE, "client", ["python3", "-c", DNS_PROBE, name]);
    const api = await kc
      .makeApiClient(CoreV1Api)
      .readNamespacedService({ namespace: "default", name: "kubernetes" });
    assert.equal(
      (await dns("kubernetes.default.svc.cluster.local")).stdout.trim(),
      `['${api.spec?.clusterIP}']`,
    );
    assert.equal(
      (await dns(`web.${NAMESPACE}.svc.cluster.local`)).stdout.trim(),
      `['${webUrl.slice(7, -1)}']`,
    );
    assert.match((await dns("pypi.org")).stdout.trim(), /^unresolved:/);
  });
});
