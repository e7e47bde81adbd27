/**
 * The local package index of the test cluster: wheels fetched on the host from hashed lockfiles
 * and served inside the cluster let a pod (which has no route off the machine) build a venv with
 * `uv pip sync --require-hashes`, as the hub's init container does; a lock whose hash does not
 * match is refused. Needs root and a built cluster; every namespace made is deleted, also on failure.
 */

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { AppsV1Api, CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { repoPath } from "../../src/paths.js";
import { type TestCluster, testCluster } from "./cluster-access.js";
import { imagePins } from "./images.js";
import {
  fetchWheels,
  INDEX_NAMESPACE,
  INDEX_URL,
  lockHashes,
  namespaceGone,
  readOrUndefined,
  startPackageIndex,
} from "./package-index.js";
import { execInPod, waitForPod } from "./pods.js";

const NAMESPACE = `atrium-pi-${randomBytes(3).toString("hex")}`;
const HUB_LOCK = repoPath("envs", "hub", "requirements.lock");
const USER_LOCK = repoPath("envs", "user", "requirements.lock");
/** One pure package and one with a compiled manylinux wheel (markupsafe's _speedups). */
const TINY_REQUIREMENTS = "six==1.17.0\nmarkupsafe==3.0.3\n";

/** Makes a venv with the image's Python and syncs the lock ($2 under /locks) into it from the index ($1). */
const SYNC = `set -eu
export HOME=/tmp UV_CACHE_DIR=/tmp/uv-cache-$2 UV_PYTHON_DOWNLOADS=never
rm -rf /tmp/venv-$2
uv venv --no-config --python "$(command -v python3)" /tmp/venv-$2
VIRTUAL_ENV=/tmp/venv-$2 uv pip sync --no-config --require-hashes --only-binary :all: --index-url "$1" /locks/$2
`;

/** A hashed lock for TINY_REQUIREMENTS, made on the host with the project's uv (which reaches PyPI). */
function compileTinyLock(dir: string): string {
  const uv = execFileSync("bash", [repoPath("scripts", "ensure-uv.sh")], { encoding: "utf8" }).trim();
  writeFileSync(join(dir, "tiny.in"), TINY_REQUIREMENTS);
  const lock = join(dir, "tiny.lock");
  execFileSync(uv, [
    ...["pip", "compile", "--no-config", "--quiet", "--universal", "--python-version", "3.11"],
    ...["--generate-hashes", "--only-binary", ":all:", "--no-header", "--no-annotate"],
    ...["--output-file", lock, join(dir, "tiny.in")],
  ]);
  return lock;
}

/** The lock with six's hashes replaced by one that no six wheel has: the only difference. */
function wrongHashLock(lock: string): string {
  const text = readFileSync(lock, "utf8");
  const six = /^six==1\.17\.0((?: \\\n +--hash=sha256:[0-9a-f]{64})+)/m.exec(text);
  assert.ok(six, `no six pin with hashes in\n${text}`);
  const wrong = `six==1.17.0 \\\n    --hash=sha256:${"0123456789abcdef".repeat(4)}`;
  return text.replace(six[0], wrong);
}

/** Deletes the namespace (if there) and waits until it is gone. */
async function deleteNamespace(core: CoreV1Api, name: string): Promise<void> {
  await readOrUndefined(() => core.deleteNamespace({ name }));
  await namespaceGone(core, name);
}

/** A pod of the python image (uid 1000, no privileges) with the locks mounted at /locks; it waits for exec. */
async function startClientPod(kc: KubeConfig, locks: Record<string, string>): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
  await core.createNamespacedConfigMap({
    namespace: NAMESPACE,
    body: { metadata: { name: "locks" }, data: locks },
  });
  await core.createNamespacedPod({
    namespace: NAMESPACE,
    body: {
      metadata: { name: "client" },
      spec: {
        restartPolicy: "Never",
        terminationGracePeriodSeconds: 1,
        automountServiceAccountToken: false,
        securityContext: {
          runAsUser: 1000,
          runAsGroup: 1000,
          runAsNonRoot: true,
          seccompProfile: { type: "RuntimeDefault" },
        },
        containers: [
          {
            name: "main",
            image: imagePins().python.image,
            imagePullPolicy: "IfNotPresent",
            command: ["sleep", "infinity"],
            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
            volumeMounts: [
              { name: "locks", mountPath: "/locks", readOnly: true },
              { name: "tmp", mountPath: "/tmp" },
            ],
          },
        ],
        volumes: [
          { name: "locks", configMap: { name: "locks" } },
          { name: "tmp", emptyDir: {} },
        ],
      },
    },
  });
  await waitForPod(kc, NAMESPACE, "client");
}

function sync(kc: KubeConfig, url: string, lock: string) {
  return execInPod(kc, NAMESPACE, "client", ["sh", "-c", SYNC, "sync", url, lock]);
}

function python(kc: KubeConfig, lock: string, code: string) {
  return execInPod(kc, NAMESPACE, "client", [`/tmp/venv-${lock}/bin/python`, "-c", code]);
}

async function seconds<T>(run: () => Promise<T>): Promise<[T, number]> {
  const started = Date.now();
  const value = await run();
  return [value, (Date.now() - started) / 1000];
}

describe("the test cluster's package index", { timeout: 1_800_000 }, () => {
  let cluster: TestCluster | undefined;
  let unavailable = "";
  let kc: KubeConfig;
  let dir: string;
  let tinyLock: string;
  let stopIndex: (() => Promise<void>) | undefined;

  before(async () => {
    const found = await testCluster();
    if (typeof found === "string") {
      unavailable = found;
      return;
    }
    cluster = found;
    kc = found.kc;
    dir = mkdtempSync(join(tmpdir(), "atrium-pi-"));
    tinyLock = compileTinyLock(dir);
    await startClientPod(kc, {
      "tiny.lock": readFileSync(tinyLock, "utf8"),
      "wrong.lock": wrongHashLock(tinyLock),
      "hub.lock": readFileSync(HUB_LOCK, "utf8"),
    });
  });

  after(async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (!cluster) return;
    try {
      const core = kc.makeApiClient(CoreV1Api);
      await deleteNamespace(core, NAMESPACE);
      if (stopIndex) await stopIndex();
      else await deleteNamespace(core, INDEX_NAMESPACE);
    } finally {
      cluster.stop();
    }
  });

  test("a pod syncs a hashed lock from the index and imports its packages", async (t) => {
    if (!cluster) return t.skip(unavailable);
    const wheels = await fetchWheels([tinyLock]);
    const index = await startPackageIndex(kc, wheels);
    stopIndex = index.stop;
    assert.equal(index.url, "http://index.atrium-test-index.svc.cluster.local:8000/simple/");
    const r = await sync(kc, index.url, "tiny.lock");
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const imported = await python(
      kc,
      "tiny.lock",
      "import six, markupsafe, markupsafe._speedups as s; print(six.__version__, markupsafe.__version__, s.__file__.endswith('.so'))",
    );
    assert.equal(imported.stdout.trim(), "1.17.0 3.0.3 True", imported.stderr);
  });

  test("the same folder is served again without a restart, and a second fetch is cached", async (t) => {
    if (!cluster) return t.skip(unavailable);
    const [wheels, took] = await seconds(() => fetchWheels([tinyLock]));
    assert.ok(took < 2, `the cached fetch took ${took} s`);
    const apps = kc.makeApiClient(AppsV1Api);
    const served = await apps.readNamespacedDeployment({ name: "index", namespace: INDEX_NAMESPACE });
    const index = await startPackageIndex(kc, wheels);
    const again = await apps.readNamespacedDeployment({ name: "index", namespace: INDEX_NAMESPACE });
    assert.equal(index.url, INDEX_URL);
    assert.equal(again.metadata?.resourceVersion, served.metadata?.resourceVersion);
  });

  test("a lock whose hash no wheel has is refused by the sync", async (t) => {
    if (!cluster) return t.skip(unavailable);
    const r = await sync(kc, INDEX_URL, "wrong.lock");
    assert.notEqual(r.code, 0, `the sync with a wrong hash succeeded:\n${r.stdout}${r.stderr}`);
    const said = r.stderr.split("\n").filter((l) => /hash/i.test(l));
    t.diagnostic(`uv: ${said.map((l) => l.trim()).join(" | ")}`);
    assert.match(r.stderr, /Hash mismatch for `six==1\.17\.0`/);
    const missing = await python(kc, "wrong.lock", "import six");
    assert.notEqual(missing.code, 0, "six was installed from a lock with a wrong hash");
  });

  test("the hub and user locks' wheels are fetched, and a pod syncs the hub lock from the index", async (t) => {
    if (!cluster) return t.skip(unavailable);
    const [wheels, first] = await seconds(() => fetchWheels([HUB_LOCK, USER_LOCK]));
    const [cached, second] = await seconds(() => fetchWheels([HUB_LOCK, USER_LOCK]));
    assert.equal(cached, wheels);
    const files = execFileSync("sh", ["-c", `ls ${wheels}/*.whl | wc -l; du -sh ${wheels} | cut -f1`], {
      encoding: "utf8",
    }).split("\n");
    t.diagnostic(
      `hub+user: ${files[0]} wheels, ${files[1]}; fetch ${first.toFixed(1)} s, cached ${second.toFixed(3)} s`,
    );
    const hashes = new Set([...lockHashes(HUB_LOCK), ...lockHashes(USER_LOCK)]);
    assert.ok(Number(files[0]) > 100 && Number(files[0]) < hashes.size);
    const index = await startPackageIndex(kc, wheels);
    stopIndex = index.stop;
    const [r, took] = await seconds(() => sync(kc, index.url, "hub.lock"));
    assert.equal(r.code, 0, r.stdout + r.stderr);
    t.diagnostic(`hub lock synced in the pod in ${took.toFixed(1)} s`);
    const imported = await python(
      kc,
      "hub.lock",
      "import jupyterhub, kubespawner, sqlalchemy, pycares, cryptography; print(jupyterhub.__version__)",
    );
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /^\d+\.\d+/);
  });
});
