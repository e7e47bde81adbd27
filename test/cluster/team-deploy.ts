/**
 * The team example on the test cluster, in a namespace of its own: its names (namespace,
 * host folder, node port), the set-up a deploy there needs (the local package index for the
 * in-cluster environment builds, a static volume for the hub's database, since the cluster has
 * no provisioner, and atrium.yaml rewritten for this cluster: plain HTTP, host_path storage
 * under the namespace's folder, one node), the `atrium` command run against it, and removing
 * everything again. What must stay true: all a run makes is named after its namespace, so
 * `removeTeamSite` finds it all (the namespace, the two volumes, the host folder).
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { repoPath } from "../../src/paths.js";
import { objectNames } from "../../src/targets/kubernetes/placement.js";
import { ADMIN_KUBECONFIG } from "./cluster-access.js";
import { fetchWheels, namespaceGone, readOrUndefined, startPackageIndex } from "./package-index.js";

/** Where static volumes of the test cluster keep their data (pv.sh's folder). */
export const VOLUMES_ROOT = "/var/lib/atrium-test-cluster/volumes";

export interface TeamSite {
  namespace: string;
  /** The host folder for everything of this run: the volumes' data, atrium.yaml, Atrium's local state. */
  work: string;
  port: number;
  /** The SSH gateway's node port. */
  sshPort: number;
  /** The platform through its node port. */
  base: string;
  hubDbPv: string;
  /** The shared volume Atrium makes for host_path storage. */
  sharedPv: string;
  /** The shared volume's data on the host (home/, shared/, envs/). */
  sharedDir: string;
  file: string;
  /** The environment of `atrium` commands: the admin kubeconfig, Atrium's local state under work. */
  env: NodeJS.ProcessEnv;
}

/** The names of one run, in namespace `<prefix>-<random>`. */
export function teamSite(prefix: string): TeamSite {
  const suffix = randomBytes(3).toString("hex");
  const namespace = `${prefix}-${suffix}`;
  const work = join(VOLUMES_ROOT, namespace);
  const port = 30200 + (Number.parseInt(suffix, 16) % 500);
  return {
    namespace,
    work,
    port,
    sshPort: port + 500,
    base: `http://127.0.0.1:${port}`,
    hubDbPv: `${namespace}-hub-db`,
    sharedPv: objectNames(namespace).sharedVolume,
    sharedDir: join(work, "shared"),
    file: join(work, "atrium.yaml"),
    env: { KUBECONFIG: ADMIN_KUBECONFIG, XDG_STATE_HOME: join(work, "state") },
  };
}

/** examples/team-kubernetes.yaml made fit for the test cluster and this site. */
export function teamConfigText(site: TeamSite, indexUrl: string): string {
  return (
    readFileSync(repoPath("examples", "team-kubernetes.yaml"), "utf8")
      .replace(
        "  type: kubernetes\n  namespace: team\n",
        `  type: kubernetes\n  context: atrium-test\n  namespace: ${site.namespace}\n  index_url: ${indexUrl}\n`,
      )
      .replace("  https:\n    mode: self-signed\n", "  https:\n    mode: none\n")
      .replace("path: /srv/atrium/team", `path: ${site.sharedDir}`)
      .replace("port: 30080", `port: ${site.port}\n    ssh_port: ${site.sshPort}`)
      // without a guarantee the large profile would request its whole 2-CPU limit: more than this shared node has free
      // environments of packages the test index serves (the user lock's): no route off the machine
      .replace(
        "    dependencies: [pandas>=2, matplotlib]\n    pip: [seaborn]\n",
        "    dependencies: [pandas>=2]\n    pip: [pyyaml]\n",
      )
      // text-unidecode: in the index (the hub lock's) but not in the user env, so only this environment has it
      .replace(
        "    dependencies: [numpy, scikit-learn]\n",
        "    dependencies: [numpy]\n    pip: [text-unidecode]\n",
      )
      .replace(
        "    cpu_limit: 2\n    mem_limit: 16Gi\n",
        "    cpu_limit: 2\n    cpu_guarantee: 0.1\n    mem_limit: 16Gi\n",
      )
  );
}

/** The team example's small Dask workers made small enough that this shared 2-core node holds three beside the hub and a server. */
export function withSmallDaskWorkers(text: string): string {
  const small = text.replace(
    "    - name: small\n      cores: 1\n      memory: 2G\n",
    "    - name: small\n      cores: 0.2\n      memory: 600M\n",
  );
  if (small === text) throw new Error("the team example's small Dask worker profile changed");
  return small;
}

/**
 * Serves the hub, user and Node.js lockfiles' wheels in the cluster, makes the hub database's static
 * volume (bound to its claim in the site's namespace) and writes atrium.yaml; returns the
 * package index (its `stop` deletes the index's namespace, which other runs may share).
 */
export async function prepareTeamSite(
  kc: KubeConfig,
  core: CoreV1Api,
  site: TeamSite,
): Promise<{ url: string; stop(): Promise<void> }> {
  const wheels = await fetchWheels([
    repoPath("envs", "hub", "requirements.lock"),
    repoPath("envs", "user", "requirements.lock"),
    repoPath("envs", "node", "requirements.lock"),
  ]);
  const index = await startPackageIndex(kc, wheels);
  mkdirSync(join(site.work, "hub-db"), { recursive: true });
  await core.createPersistentVolume({
    body: {
      metadata: { name: site.hubDbPv },
      spec: {
        capacity: { storage: "1Gi" },
        accessModes: ["ReadWriteOnce"],
        persistentVolumeReclaimPolicy: "Retain",
        storageClassName: "atrium-test-static",
        claimRef: { namespace: site.namespace, name: "hub-db" },
        hostPath: { path: join(site.work, "hub-db"), type: "Directory" },
      },
    },
  });
  writeFileSync(site.file, teamConfigText(site, index.url));
  return index;
}

/** Deletes the site's namespace (waiting until it is gone), its two volumes and its host folder. */
export async function removeTeamSite(core: CoreV1Api, site: TeamSite): Promise<void> {
  try {
    await readOrUndefined(() => core.deleteNamespace({ name: site.namespace }));
    await namespaceGone(core, site.namespace, 180);
    for (const name of [site.hubDbPv, site.sharedPv]) {
      await readOrUndefined(() => core.deletePersistentVolume({ name }));
    }
  } finally {
    rmSync(site.work, { recursive: true, force: true });
  }
}

/**
 * Runs `atrium ARGS` (the built CLI) with env added; output is stdout and stderr together.
 * Aborting `signal` ends the command with `killSignal` (SIGTERM unless given); `killedBy` is
 * the signal it ended with, if any.
 */
export function runAtrium(
  args: string[],
  env: NodeJS.ProcessEnv,
  options: { signal?: AbortSignal; killSignal?: NodeJS.Signals } = {},
): Promise<{ code: number | null; killedBy: NodeJS.Signals | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [repoPath("dist", "src", "cli", "main.js"), ...args], {
      env: { ...process.env, ...env },
      signal: options.signal,
      killSignal: options.killSignal,
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.on("error", (err) => {
      out += `${err.message}\n`;
    });
    child.on("close", (code, killedBy) => resolve({ code, killedBy, out }));
  });
}

/** One value of the platform's generated Secret. */
export async function platformSecret(core: CoreV1Api, namespace: string, key: string): Promise<string> {
  const name = objectNames(namespace).secrets;
  const s = await core.readNamespacedSecret({ name, namespace });
  const v = s.data?.[key];
  if (!v) throw new Error(`${name} in ${namespace} has no ${key}`);
  return Buffer.from(v, "base64").toString("utf8");
}
