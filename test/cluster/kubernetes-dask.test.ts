/**
 * Dask on the kubernetes target, on the real test cluster: the team example deployed with
 * smaller workers (the node has 2 cores), a user's kernel makes a cluster with
 * `Gateway()` and no arguments, scales it to two workers and runs tasks on them; the
 * scheduler and workers are pods running as her uid, gid and groups, and write her home
 * as her. Attacks: another user's token neither lists nor connects to her cluster, her
 * own kernel cannot reach the scheduler's pod around the gateway, and asking past her
 * limit is refused with the limit named. A worker in a managed environment has its
 * packages (the environment is offered to its group only); the cluster survives a restart
 * of the gateway; shutting it down leaves no pod or Secret; an idle one ends by itself.
 * Everything it made (namespace, volumes, host folder) is removed afterwards, also on
 * failure.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { CoreV1Api, type KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { DASK_CLUSTER_LABEL } from "../../src/targets/kubernetes/dask-endpoints.js";
import { KernelClient } from "../e2e/kernel.js";
import { type TestCluster, testCluster } from "./cluster-access.js";
import { poll } from "./pods.js";
import { siteHub } from "./site-hub.js";
import {
  platformSecret,
  prepareTeamSite,
  removeTeamSite,
  runAtrium,
  teamConfigText,
  teamSite,
  withSmallDaskWorkers,
} from "./team-deploy.js";

const site = teamSite("atrium-kdask");
const { namespace: NAMESPACE, base: BASE } = site;
const SCHEDULERS = "app.kubernetes.io/component=dask-scheduler";
const WORKERS = "app.kubernetes.io/component=dask-worker";
/** A cluster's pods and Secret, by the label the gateway's pod backend gives them. */
const ofCluster = (name: string) => `${DASK_CLUSTER_LABEL}=${name}`;

const hub = siteHub(BASE);
const { userToken, spawnReady } = hub;

describe("Dask on the kubernetes target", () => {
  let cluster: TestCluster | string;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let stopIndex: (() => Promise<void>) | undefined;
  let kernel: KernelClient | undefined;
  let graceUid = 0;
  let clusterName = "";

  const pods = async (selector: string): Promise<V1Pod[]> =>
    (await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: selector })).items;

  const schedulerIp = async (name: string): Promise<string> => {
    const [scheduler] = await pods(`${SCHEDULERS},${ofCluster(name)}`);
    const ip = scheduler?.status?.podIP;
    assert.ok(ip, `cluster ${name}'s scheduler has no pod IP`);
    return ip;
  };

  /** The gateway's log and the Dask pods' states, for a failure's message. */
  const daskDiagnosis = async (): Promise<string> => {
    const lines: string[] = [];
    for (const p of await pods("app.kubernetes.io/component in (dask-gateway,dask-scheduler,dask-worker)")) {
      const name = p.metadata?.name ?? "";
      const states = (p.status?.containerStatuses ?? []).map((c) => JSON.stringify(c.state));
      lines.push(`pod ${name}: ${p.status?.phase} ${states.join(" ")}`);
      const log = await core
        .readNamespacedPodLog({ name, namespace: NAMESPACE, tailLines: 25 })
        .catch((err: unknown) => `(no log: ${String(err)})`);
      lines.push(String(log));
    }
    return lines.join("\n");
  };

  /** Runs code in grace's kernel; fails the test on a Python error. */
  const run = async (code: string, timeoutMs = 300_000): Promise<string> => {
    assert.ok(kernel, "grace's kernel is not running");
    const r = await kernel.execute(code, timeoutMs);
    if (r.status !== "ok")
      assert.fail(`${r.error?.ename}: ${r.error?.evalue}\n${r.stdout}\n${await daskDiagnosis()}`);
    return r.stdout.trim();
  };

  before(async () => {
    cluster = await testCluster();
    if (typeof cluster === "string") return;
    kc = cluster.kc;
    core = kc.makeApiClient(CoreV1Api);
    const index = await prepareTeamSite(kc, core, site);
    stopIndex = index.stop;
    const text = withSmallDaskWorkers(teamConfigText(site, index.url));
    // short enough to watch a cluster end idle
    const idle = text.replace("  idle_timeout: 30m\n", "  idle_timeout: 60s\n");
    assert.ok(idle.includes("idle_timeout: 60s"), "the example's Dask idle timeout changed");
    writeFileSync(site.file, idle);
  });

  after(async () => {
    if (typeof cluster === "string") return;
    try {
      kernel?.close();
      await removeTeamSite(core, site);
      await stopIndex?.();
    } finally {
      cluster.stop();
    }
  });

  test("deploys the gateway beside the hub", { timeout: 1_200_000 }, async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    const r = await runAtrium(["deploy", "-c", site.file], site.env);
    assert.equal(r.code, 0, r.out);
    const [gateway] = await pods("app.kubernetes.io/component=dask-gateway");
    assert.equal(gateway?.status?.phase, "Running");
    assert.equal(gateway?.spec?.securityContext?.runAsUser, 997);
  });

  test("Gateway() with no arguments makes her a cluster whose workers run as her", {
    timeout: 900_000,
  }, async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    const admin = await platformSecret(core, NAMESPACE, "atrium_api_token");
    await spawnReady(admin, "grace");
    const token = await userToken(admin, "grace");
    kernel = await KernelClient.start(`${BASE}/user/grace`, token, 180_000);
    const out = await run(
      [
        "import json, os",
        "from dask_gateway import Gateway",
        // one Gateway for the whole kernel: the tests below reuse it
        "g = Gateway()",
        "cluster = g.new_cluster(worker_profile='small')",
        "cluster.scale(2)",
        "client = cluster.get_client()",
        // The idle timeout counts from the last task: a task left waiting keeps the cluster
        // up for the tests below however slowly they run, until the shutdown test. It leaves
        // its worker's one thread (secede): a client that reconnects after the gateway's
        // restart submits it again, and two waiting on both threads would starve every task.
        "from distributed import Event, secede",
        "hold = Event('atrium-kdask-keepalive')",
        "def keep_alive():",
        "    secede()",
        "    Event('atrium-kdask-keepalive').wait(3600)",
        "keepalive = client.submit(keep_alive, pure=False)",
        "client.wait_for_workers(2, timeout=420)",
        "def who():",
        "    import os",
        "    open(os.path.expanduser('~/from-' + os.environ.get('HOSTNAME', 'worker')), 'w').write('hi')",
        "    mask = os.umask(0)",
        "    os.umask(mask)",
        "    return [os.getuid(), os.getgid(), sorted(os.getgroups()), oct(mask)]",
        "me = [os.getuid(), os.getgid(), sorted(os.getgroups()), '0o2']",
        "print(json.dumps({'name': cluster.name, 'me': me, 'workers': list(client.run(who).values()),",
        "                  'sum': client.submit(sum, [1, 2, 3]).result()}))",
      ].join("\n"),
      600_000,
    );
    const got = JSON.parse(out.split("\n").pop() ?? "") as {
      name: string;
      me: [number, number, number[], string];
      workers: unknown[];
      sum: number;
    };
    clusterName = got.name;
    assert.equal(got.sum, 6);
    graceUid = got.me[0];
    // every worker as her: her uid, own gid and groups, the servers' umask
    assert.deepEqual(got.workers, [got.me, got.me]);
    const workerPods = await pods(`${WORKERS},${ofCluster(clusterName)}`);
    assert.equal(workerPods.length, 2);
    for (const p of [...workerPods, ...(await pods(SCHEDULERS))]) {
      assert.equal(p.spec?.securityContext?.runAsUser, graceUid, p.metadata?.name);
      assert.equal(p.spec?.automountServiceAccountToken, false, p.metadata?.name);
      assert.equal(p.spec?.containers[0]?.securityContext?.allowPrivilegeEscalation, false);
    }
    const home = await run("import glob; print(len(glob.glob(os.path.expanduser('~/from-dask-worker-*'))))");
    assert.equal(home, "2", "the workers did not write her home");
  });

  test("status lists her cluster with its workers, and logs shows the gateway's", async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    const status = await runAtrium(["status", "-c", site.file], site.env);
    assert.equal(status.code, 0, status.out);
    assert.match(status.out, /^Dask gateway: ready$/m);
    assert.match(status.out, new RegExp(`^  grace: ${clusterName} running, 2 of 2 workers ready$`, "m"));
    const logs = await runAtrium(["logs", "dask-gateway", "-c", site.file, "-n", "200"], site.env);
    assert.equal(logs.code, 0, logs.out);
    assert.match(logs.out, /Created cluster [0-9a-f]+ for user grace/);
  });

  test("another user's token neither lists nor connects to her cluster", async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    assert.ok(clusterName, "no cluster from the test before");
    const admin = await platformSecret(core, NAMESPACE, "atrium_api_token");
    const barbara = await userToken(admin, "barbara");
    const out = await run(
      [
        "from dask_gateway import Gateway, JupyterHubAuth",
        `other = Gateway(auth=JupyterHubAuth(api_token=${JSON.stringify(barbara)}))`,
        "print(len(other.list_clusters()))",
        "try:",
        `    other.connect(${JSON.stringify(clusterName)})`,
        "    print('connected')",
        "except Exception as e:",
        "    print('refused', type(e).__name__)",
        "other.close()",
        "print(len(g.list_clusters()))",
      ].join("\n"),
    );
    const [listed, connect, own] = out.split("\n");
    assert.equal(listed, "0", "barbara sees grace's cluster");
    assert.match(connect ?? "", /^refused /);
    assert.equal(own, "1");
  });

  test("her kernel cannot reach the scheduler's pod around the gateway", async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    const ip = await schedulerIp(clusterName);
    const out = await run(
      [
        "import socket",
        "for port in (8786, 8787, 8788):",
        "    try:",
        `        socket.create_connection((${JSON.stringify(ip)}, port), timeout=3).close()`,
        "        print(port, 'open')",
        "    except OSError as e:",
        "        print(port, 'blocked')",
      ].join("\n"),
    );
    assert.equal(out, "8786 blocked\n8787 blocked\n8788 blocked");
  });

  test("scaling past her limit is refused with the limit named", async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    const out = await run(
      [
        "try:",
        "    cluster.scale(50)",
        "    print('accepted')",
        "except Exception as e:",
        "    print('refused', e)",
      ].join("\n"),
    );
    assert.match(out, /^refused .*max_workers/);
  });

  test("a worker in a managed environment imports what only that environment has, offered to its group only; it cannot reach another cluster", {
    timeout: 600_000,
  }, async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    const admin = await platformSecret(core, NAMESPACE, "atrium_api_token");
    const barbara = await userToken(admin, "barbara");
    const firstIp = await schedulerIp(clusterName);
    const out = await run(
      [
        "from dask_gateway import Gateway, JupyterHubAuth",
        "def probe(ip):",
        "    import socket",
        "    try:",
        "        socket.create_connection((ip, 8786), timeout=3).close()",
        "        return 'open'",
        "    except OSError:",
        "        return 'blocked'",
        `theirs = Gateway(auth=JupyterHubAuth(api_token=${JSON.stringify(barbara)})).cluster_options()`,
        "try:",
        "    theirs.environment = 'modelers/ml'",
        "    print('offered to barbara')",
        "except ValueError:",
        "    print('not offered to barbara')",
        "opts = g.cluster_options()",
        "opts.worker_profile = 'small'",
        "opts.environment = 'modelers/ml'",
        "ml = g.new_cluster(opts)",
        "ml.scale(1)",
        "mlc = ml.get_client()",
        "mlc.wait_for_workers(1, timeout=300)",
        "print(mlc.submit(lambda: __import__('text_unidecode').unidecode('Ærø')).result())",
        // another cluster's code (its own user's here) cannot reach the first cluster's scheduler
        `print('other cluster', mlc.submit(probe, ${JSON.stringify(firstIp)}, pure=False).result())`,
        "mlc.close()",
        "ml.shutdown()",
        "try:",
        "    import text_unidecode",
        "    print('text_unidecode in the kernel')",
        "except ImportError:",
        "    print('no text_unidecode in the kernel')",
      ].join("\n"),
      540_000,
    );
    assert.deepEqual(out.split("\n"), [
      "not offered to barbara",
      "AEro",
      "other cluster blocked",
      "no text_unidecode in the kernel",
    ]);
  });

  test("the cluster outlives a restart of the gateway", { timeout: 600_000 }, async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    const [old] = await pods("app.kubernetes.io/component=dask-gateway");
    await core.deleteNamespacedPod({ name: old?.metadata?.name ?? "", namespace: NAMESPACE });
    await poll("a new gateway pod to be ready", 300, async () => {
      const [p] = await pods("app.kubernetes.io/component=dask-gateway");
      const ready = p?.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";
      return p && p.metadata?.uid !== old?.metadata?.uid && ready ? true : undefined;
    });
    const out = await run(
      [
        "import time",
        "for attempt in range(60):",
        "    try:",
        "        names = [c.name for c in g.list_clusters()]",
        "        break",
        "    except Exception:",
        "        time.sleep(2)",
        "print(cluster.name in names)",
        // the old client's connection went through the gateway that was replaced: a new one
        // reaches the same scheduler and workers (the old is dropped, not closed: closing it may wait)
        // the first objects stay referenced: the first cluster object, collected, would shut the cluster down
        "first, first_client = cluster, client",
        "cluster = g.connect(cluster.name)",
        "client = cluster.get_client()",
        "print(len(client.scheduler_info()['workers']))",
        "print(client.submit(sum, [4, 5], pure=False).result(timeout=120))",
      ].join("\n"),
    );
    assert.equal(out, "True\n2\n9");
  });

  test("shutting the cluster down leaves no pod and no Secret of it", { timeout: 300_000 }, async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    await run(
      "Event('atrium-kdask-keepalive', client=client).set()\ncluster.shutdown()\nclient.close()\nprint('down')",
      120_000,
    );
    await poll("the cluster's pods and TLS Secret to be gone", 120, async () => {
      const left = await pods(ofCluster(clusterName));
      const secrets = await core.listNamespacedSecret({
        namespace: NAMESPACE,
        labelSelector: ofCluster(clusterName),
      });
      return left.length === 0 && secrets.items.length === 0 ? true : undefined;
    });
  });

  test("a cluster without tasks ends after the idle timeout", { timeout: 420_000 }, async (t) => {
    if (typeof cluster === "string") return t.skip(cluster);
    const idle = await run("idle = g.new_cluster(shutdown_on_close=False)\nprint(idle.name)");
    await poll("the idle cluster's pods to be gone", 300, async () => {
      const listed = await run("print([c.name for c in g.list_clusters()])");
      const left = await pods(ofCluster(idle));
      return !listed.includes(idle) && left.length === 0 ? true : undefined;
    });
  });
});
