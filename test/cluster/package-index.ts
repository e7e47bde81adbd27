/**
 * A local PEP 503 package index for the test cluster, whose pods have no route off the machine:
 * `fetchWheels` downloads on the host the wheels hashed lockfiles need for the cluster's Python
 * (CPython 3.11, manylinux x86_64) and writes a "simple" index beside them; `startPackageIndex`
 * serves that folder inside the cluster, read-only, behind a Service. What must stay true: the
 * folder holds only files whose sha256 a lockfile names, and it is complete once `.done` is there.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { basename, join, relative } from "node:path";
import { createInterface } from "node:readline";
import { AppsV1Api, CoreV1Api, type KubeConfig, type V1Deployment } from "@kubernetes/client-node";
import { repoPath } from "../../src/paths.js";
import { imagePins } from "./images.js";
import { poll } from "./pods.js";

export const WHEEL_CACHE = "/var/cache/atrium-test-cluster";
export const INDEX_NAMESPACE = "atrium-test-index";
export const INDEX_URL = `http://index.${INDEX_NAMESPACE}.svc.cluster.local:8000/simple/`;

/** pip resolves nothing here (--no-deps): it picks, per pinned requirement, the wheel whose hash the lock names. */
const PIP = "pip==26.3";
/** The host interpreter pip runs under: pip evaluates the locks' markers against it, so it must match the cluster's Python. */
const HOST_PYTHON = "/usr/bin/python3";
/**
 * pip matches --platform tags literally (it widens only manylinux2014/2010 to the older aliases),
 * so every manylinux_2_X up to bookworm's glibc 2.36 is named, plus the legacy aliases.
 */
const PLATFORMS = [
  ...Array.from({ length: 32 }, (_, i) => `manylinux_2_${36 - i}_x86_64`),
  "manylinux2014_x86_64",
  "manylinux2010_x86_64",
  "manylinux1_x86_64",
  "any",
];
/** What, besides the locks, decides the folder's contents: changing it makes a new folder. */
const RECIPE = [PIP, "cp", "cp311", "3.11", ...PLATFORMS].join(" ");
const INDEX_PORT = 8000;
const MOUNT = "/srv/index";

function log(line: string): void {
  process.stderr.write(`[package index] ${line}\n`);
}

/** The cache key of a set of lockfiles: their contents (in the order given) and the download recipe. */
export function wheelsKey(lockfiles: string[]): string {
  const hash = createHash("sha256").update(RECIPE);
  for (const lock of lockfiles) hash.update("\0").update(readFileSync(lock));
  return hash.digest("hex").slice(0, 16);
}

/** The sha256 hashes a lockfile names (`--hash=sha256:...`). */
export function lockHashes(lockfile: string): Set<string> {
  return new Set(
    [...readFileSync(lockfile, "utf8").matchAll(/--hash=sha256:([0-9a-f]{64})/g)].map((m) => m[1] as string),
  );
}

/** PEP 503 normalized project name of a wheel file (its first dash-separated field). */
export function projectOfWheel(file: string): string {
  return (file.split("-")[0] ?? file).replace(/[-_.]+/g, "-").toLowerCase();
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(path)
      .on("data", (d) => hash.update(d))
      .on("end", () => resolve(hash.digest("hex")))
      .on("error", reject);
  });
}

function projectUv(): string {
  const r = spawnSync("bash", [repoPath("scripts", "ensure-uv.sh")], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`scripts/ensure-uv.sh failed (exit ${r.status}): ${r.stderr}`);
  return r.stdout.trim();
}

/** Refuses a host interpreter that would evaluate the locks' markers differently from the cluster's Python. */
function checkHostPython(): void {
  const want = imagePins().python.python;
  const r = spawnSync(
    HOST_PYTHON,
    ["-c", "import platform, sys; print('%d.%d' % sys.version_info[:2], sys.platform, platform.machine())"],
    { encoding: "utf8" },
  );
  const got = r.stdout.trim();
  if (got !== `${want} linux x86_64`) {
    throw new Error(
      `${HOST_PYTHON} is "${got || r.error}", not Python ${want} on linux x86_64: pip evaluates the lockfiles' ` +
        "markers against it, so the wheels would not be the ones the cluster's Python needs",
    );
  }
}

/** Runs pip download for one lockfile into dir, a progress line per saved wheel; rejects naming what had no wheel. */
function downloadLock(uv: string, lockfile: string, dir: string): Promise<void> {
  const args = ["tool", "run", "--no-config", "--python", HOST_PYTHON, "--from", PIP, "pip", "download"];
  args.push("--isolated", "--disable-pip-version-check", "--no-input", "--progress-bar", "off");
  args.push("--only-binary=:all:", "--no-deps", "--require-hashes");
  args.push("--implementation", "cp", "--python-version", "3.11", "--abi", "cp311");
  for (const p of PLATFORMS) args.push("--platform", p);
  args.push("-r", lockfile, "-d", dir);
  const child = spawn(uv, args, { stdio: ["ignore", "pipe", "pipe"] });
  const output: string[] = [];
  let saved = 0;
  const label = relative(repoPath(), lockfile).startsWith("..") ? lockfile : relative(repoPath(), lockfile);
  const collect = (raw: string) => {
    const line = raw.trim();
    output.push(line);
    const file = /^Saved (.+)$/.exec(line)?.[1] ?? /^File was already downloaded (.+)$/.exec(line)?.[1];
    if (file) log(`${label}: ${++saved} ${basename(file)}`);
  };
  createInterface({ input: child.stdout }).on("line", collect);
  createInterface({ input: child.stderr }).on("line", collect);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) return resolve();
      const missing = output.flatMap((l) => /No matching distribution found for (\S+)/.exec(l)?.[1] ?? []);
      const what = missing.length
        ? `no wheel for CPython 3.11 manylinux x86_64 with a hash the lock names: ${missing.join(", ")}`
        : `pip download failed (exit ${code})`;
      reject(new Error(`${lockfile}: ${what}\n${output.slice(-20).join("\n")}`));
    });
  });
}

function link(file: string, sha256: string): string {
  return `<a href="../../${file}#sha256=${sha256}">${file}</a><br/>`;
}

function page(title: string, body: string[]): string {
  return `<!DOCTYPE html>\n<html><head><meta name="pypi:repository-version" content="1.0"><title>${title}</title></head><body>\n${body.join("\n")}\n</body></html>\n`;
}

/** Writes dir/simple/index.html and dir/simple/<project>/index.html for the wheels in dir; checks each against the locks. */
export async function writeSimpleIndex(dir: string, allowed: Set<string>): Promise<number> {
  const byProject = new Map<string, string[]>();
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith(".whl"))
    .sort()) {
    const sha256 = await sha256File(join(dir, file));
    if (!allowed.has(sha256)) throw new Error(`${dir}/${file}: sha256 ${sha256} is in none of the lockfiles`);
    const project = projectOfWheel(file);
    byProject.set(project, [...(byProject.get(project) ?? []), link(file, sha256)]);
  }
  const projects = [...byProject.keys()].sort();
  for (const project of projects) {
    mkdirSync(join(dir, "simple", project), { recursive: true, mode: 0o755 });
    writeFileSync(
      join(dir, "simple", project, "index.html"),
      page(`Links for ${project}`, byProject.get(project) ?? []),
    );
  }
  mkdirSync(join(dir, "simple"), { recursive: true, mode: 0o755 });
  writeFileSync(
    join(dir, "simple", "index.html"),
    page(
      "Simple index",
      projects.map((p) => `<a href="${p}/">${p}</a><br/>`),
    ),
  );
  return byProject.size;
}

/**
 * Downloads, on the host, every wheel the hashed lockfiles need for CPython 3.11 manylinux x86_64,
 * into WHEEL_CACHE/wheels-<key>/ with a PEP 503 index in simple/; returns that folder. Cached: a
 * folder with its `.done` stamp is returned at once. Built in a temporary folder and renamed, so
 * a concurrent or killed run never leaves a half folder under the final name.
 */
export async function fetchWheels(lockfiles: string[], cacheRoot = WHEEL_CACHE): Promise<string> {
  const dir = join(cacheRoot, `wheels-${wheelsKey(lockfiles)}`);
  if (existsSync(join(dir, ".done"))) {
    log(`cached in ${dir}`);
    return dir;
  }
  checkHostPython();
  const uv = projectUv();
  const work = `${dir}.tmp-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true, mode: 0o755 });
  try {
    const started = Date.now();
    const allowed = new Set<string>();
    for (const lock of lockfiles) {
      log(`downloading the wheels of ${lock}`);
      await downloadLock(uv, lock, work);
      for (const h of lockHashes(lock)) allowed.add(h);
    }
    const projects = await writeSimpleIndex(work, allowed);
    writeFileSync(join(work, ".done"), `${new Date().toISOString()}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(work, dir);
    log(`${projects} projects in ${dir} (${Math.round((Date.now() - started) / 1000)} s)`);
    return dir;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const LABELS = { app: "index", "atrium.test/package-index": "true" };
const WHEEL_DIR_ANNOTATION = "atrium.test/wheel-dir";

function indexDeployment(wheelDir: string): V1Deployment {
  return {
    metadata: { name: "index", namespace: INDEX_NAMESPACE, labels: LABELS },
    spec: {
      replicas: 1,
      // the pod serving the old folder goes before the new one starts: never both behind the Service
      strategy: { type: "Recreate" },
      selector: { matchLabels: { app: "index" } },
      template: {
        metadata: { labels: LABELS, annotations: { [WHEEL_DIR_ANNOTATION]: wheelDir } },
        spec: {
          terminationGracePeriodSeconds: 1,
          automountServiceAccountToken: false,
          securityContext: {
            runAsUser: 65534,
            runAsGroup: 65534,
            runAsNonRoot: true,
            seccompProfile: { type: "RuntimeDefault" },
          },
          containers: [
            {
              name: "http",
              image: imagePins().python.image,
              imagePullPolicy: "IfNotPresent",
              command: [
                "python3",
                "-m",
                "http.server",
                String(INDEX_PORT),
                "--bind",
                "0.0.0.0",
                "--directory",
                MOUNT,
              ],
              env: [{ name: "PYTHONDONTWRITEBYTECODE", value: "1" }],
              ports: [{ name: "http", containerPort: INDEX_PORT }],
              readinessProbe: { httpGet: { path: "/simple/", port: INDEX_PORT }, periodSeconds: 1 },
              resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "256Mi" } },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ["ALL"] },
              },
              volumeMounts: [{ name: "wheels", mountPath: MOUNT, readOnly: true }],
            },
          ],
          // The test cluster has one node, so the host's folder is there as it is.
          volumes: [{ name: "wheels", hostPath: { path: wheelDir, type: "Directory" } }],
        },
      },
    },
  };
}

export async function readOrUndefined<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}

/** Rolled out: the current spec observed, its one replica updated and ready, the old ones gone. */
function rolledOut(d: V1Deployment): boolean {
  const s = d.status;
  return (
    (s?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) &&
    s?.updatedReplicas === 1 &&
    s?.readyReplicas === 1 &&
    s?.replicas === 1
  );
}

function servesFolder(d: V1Deployment | undefined, wheelDir: string): boolean {
  return d?.spec?.template.metadata?.annotations?.[WHEEL_DIR_ANNOTATION] === wheelDir;
}

/** Waits until the namespace is gone (a deletion in progress is waited for, not raced). */
export async function namespaceGone(core: CoreV1Api, name: string, seconds = 120): Promise<void> {
  await poll(`namespace ${name} deleted`, seconds, async () =>
    (await readOrUndefined(() => core.readNamespace({ name }))) ? undefined : true,
  );
}

async function ensureNamespace(core: CoreV1Api): Promise<void> {
  const ns = await readOrUndefined(() => core.readNamespace({ name: INDEX_NAMESPACE }));
  if (ns?.status?.phase === "Terminating") await namespaceGone(core, INDEX_NAMESPACE);
  else if (ns) return;
  await core.createNamespace({ body: { metadata: { name: INDEX_NAMESPACE, labels: LABELS } } });
}

async function ensureService(core: CoreV1Api): Promise<void> {
  if (await readOrUndefined(() => core.readNamespacedService({ name: "index", namespace: INDEX_NAMESPACE })))
    return;
  await core.createNamespacedService({
    namespace: INDEX_NAMESPACE,
    body: {
      metadata: { name: "index", labels: LABELS },
      spec: {
        type: "ClusterIP",
        selector: { app: "index" },
        ports: [{ name: "http", port: INDEX_PORT, targetPort: INDEX_PORT }],
      },
    },
  });
}

/** Creates the Deployment, or points it at wheelDir when it serves another folder; leaves it alone when it serves this one. */
async function ensureDeployment(apps: AppsV1Api, wheelDir: string): Promise<void> {
  const current = await readOrUndefined(() =>
    apps.readNamespacedDeployment({ name: "index", namespace: INDEX_NAMESPACE }),
  );
  if (servesFolder(current, wheelDir)) return;
  const body = indexDeployment(wheelDir);
  if (current) await apps.replaceNamespacedDeployment({ name: "index", namespace: INDEX_NAMESPACE, body });
  else await apps.createNamespacedDeployment({ namespace: INDEX_NAMESPACE, body });
  log(`serving ${wheelDir}`);
}

/**
 * Waits until the Service's address answers with this folder's index (a rolled-out Deployment
 * is not yet what the Service's rules send requests to): the host reaches ClusterIPs too.
 */
async function servedThroughService(core: CoreV1Api, wheelDir: string): Promise<void> {
  const service = await core.readNamespacedService({ name: "index", namespace: INDEX_NAMESPACE });
  const url = `http://${service.spec?.clusterIP}:${INDEX_PORT}/simple/index.html`;
  const wanted = readFileSync(join(wheelDir, "simple", "index.html"), "utf8");
  await poll(`${url} to serve ${wheelDir}`, 60, async () => {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
      return (await r.text()) === wanted ? true : undefined;
    } catch {
      return undefined;
    }
  });
}

/**
 * Serves wheelDir (a folder fetchWheels made) inside the cluster in namespace atrium-test-index,
 * as the ClusterIP Service `index`; waits until it is ready and returns its simple index URL.
 * Already serving this folder: reused as it is. `stop` deletes the namespace and waits for it to go.
 */
export async function startPackageIndex(
  kc: KubeConfig,
  wheelDir: string,
): Promise<{ url: string; stop(): Promise<void> }> {
  if (!existsSync(join(wheelDir, ".done")))
    throw new Error(`${wheelDir}: not a finished wheel folder (no .done)`);
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  await ensureNamespace(core);
  await ensureService(core);
  await ensureDeployment(apps, wheelDir);
  let last: V1Deployment | undefined;
  try {
    await poll(`package index in ${INDEX_NAMESPACE} ready`, 120, async () => {
      last = await apps.readNamespacedDeployment({ name: "index", namespace: INDEX_NAMESPACE });
      return servesFolder(last, wheelDir) && rolledOut(last) ? true : undefined;
    });
  } catch (err) {
    throw new Error(`${(err as Error).message} (status ${JSON.stringify(last?.status)})`);
  }
  await servedThroughService(core, wheelDir);
  return {
    url: INDEX_URL,
    stop: async () => {
      await readOrUndefined(() => core.deleteNamespace({ name: INDEX_NAMESPACE }));
      await namespaceGone(core, INDEX_NAMESPACE);
    },
  };
}
