/**
 * What a change to one of the platform's objects restarts or affects, in words, from
 * the field-level changes plan's online step found. Pure. A workload whose pod
 * template changes restarts (the hub, the proxy); a ConfigMap or Secret restarts the
 * workload whose pod template carries its hash (the hub's settings hash annotation)
 * and is otherwise only read where it is mounted; what user servers use is found in
 * the hub settings' kube_spawner section (their volumes, their pod labels), since the
 * hub, not Atrium, makes their pods: a policy that selects them applies to running
 * servers at once, while profile and spawner settings reach only servers started later.
 */
import type { KubeSpawnerSettings } from "../../contracts/kube-spawner.js";
import { HUB_SETTINGS_KEY } from "./config.js";
import { GATEWAY_COMPONENT } from "./dask-endpoints.js";
import type { FieldChange } from "./field-diff.js";

type Obj = Record<string, unknown>;

export interface ObjectChange {
  kind: "create" | "update" | "delete";
  /** As it will be (the dry run's result, else as rendered); for a delete, as it is now. */
  object: Obj;
  fields: FieldChange[];
}

const WORKLOADS = new Set(["Deployment", "StatefulSet", "DaemonSet"]);
const COMPONENT_LABEL = "app.kubernetes.io/component";

const isObject = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const field = (v: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((at, k) => (isObject(at) ? at[k] : undefined), v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const kindOf = (o: Obj) => String(o.kind);
const nameOf = (o: Obj) => String(field(o, "metadata", "name"));
const same = (a: Obj, b: Obj) => kindOf(a) === kindOf(b) && nameOf(a) === nameOf(b);
const under = (f: FieldChange, ...prefix: (string | number)[]) => prefix.every((p, i) => f.path[i] === p);

/** "the hub", "the proxy", "the Dask gateway", or the object itself. */
function partOf(o: Obj): string {
  const component = field(o, "metadata", "labels", COMPONENT_LABEL);
  if (component === "hub" || component === "proxy") return `the ${component}`;
  if (component === GATEWAY_COMPONENT) return "the Dask gateway";
  return `${kindOf(o)} ${nameOf(o)}`;
}

/** The ConfigMaps, Secrets and claims a workload's pods use, as "Kind/name". */
function usedBy(workload: Obj): Set<string> {
  const spec = field(workload, "spec", "template", "spec");
  const used = new Set<string>();
  const add = (kind: string, name: unknown) => typeof name === "string" && used.add(`${kind}/${name}`);
  for (const v of list(field(spec, "volumes"))) {
    add("ConfigMap", field(v, "configMap", "name"));
    add("Secret", field(v, "secret", "secretName"));
    add("PersistentVolumeClaim", field(v, "persistentVolumeClaim", "claimName"));
    for (const s of list(field(v, "projected", "sources"))) {
      add("ConfigMap", field(s, "configMap", "name"));
      add("Secret", field(s, "secret", "name"));
    }
  }
  for (const c of [...list(field(spec, "containers")), ...list(field(spec, "initContainers"))]) {
    for (const e of list(field(c, "envFrom"))) {
      add("ConfigMap", field(e, "configMapRef", "name"));
      add("Secret", field(e, "secretRef", "name"));
    }
    for (const e of list(field(c, "env"))) {
      add("ConfigMap", field(e, "valueFrom", "configMapKeyRef", "name"));
      add("Secret", field(e, "valueFrom", "secretKeyRef", "name"));
    }
  }
  return used;
}

/** The hub settings' kube_spawner section, from the rendered ConfigMap that holds them. */
function userServers(rendered: readonly Obj[]): KubeSpawnerSettings | undefined {
  for (const o of rendered) {
    const text = field(o, "data", HUB_SETTINGS_KEY);
    if (kindOf(o) !== "ConfigMap" || typeof text !== "string") continue;
    const spawner = field(JSON.parse(text), "kube_spawner");
    if (isObject(spawner)) return spawner as unknown as KubeSpawnerSettings;
  }
  return undefined;
}

function selectsUserPods(policy: Obj, spawner: KubeSpawnerSettings | undefined): boolean {
  if (spawner === undefined) return false;
  const selector = field(policy, "spec", "podSelector", "matchLabels");
  const labels = spawner.pod_labels as Record<string, string>;
  if (!isObject(selector)) return list(field(policy, "spec", "podSelector", "matchExpressions")).length === 0;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

function workloadEffects(c: ObjectChange): string[] {
  const part = partOf(c.object);
  if (c.kind === "create") return [`starts ${part}`];
  if (c.kind === "delete") return [`stops ${part}`];
  if (!c.fields.some((f) => under(f, "spec", "template")))
    return [`does not restart ${part} (its pods stay)`];
  if (part === "the hub")
    return [
      "restarts the hub: its pod is replaced (logins and spawns wait until it is ready; running user servers keep running)",
    ];
  if (part === "the proxy")
    return ["restarts the proxy: connections to the platform drop while its pod is replaced"];
  if (part === "the Dask gateway")
    return [
      "restarts the Dask gateway: its pod is replaced (new clusters wait until it is ready; running clusters keep running)",
    ];
  return [`restarts ${part}: its pods are replaced`];
}

/** A ConfigMap's or Secret's effect on the workloads that use it. */
function configEffects(c: ObjectChange, all: readonly ObjectChange[], rendered: readonly Obj[]): string[] {
  const key = `${kindOf(c.object)}/${nameOf(c.object)}`;
  const out: string[] = [];
  for (const w of rendered.filter((o) => WORKLOADS.has(kindOf(o)) && usedBy(o).has(key))) {
    const change = all.find((x) => same(x.object, w));
    const part = partOf(w);
    const restarts = change?.kind === "update" && change.fields.some((f) => under(f, "spec", "template"));
    if (!restarts) out.push(`read by ${part}, which this does not restart`);
    else if (change.fields.some((f) => under(f, "spec", "template", "metadata", "annotations")))
      out.push(
        `restarts ${part}: ${kindOf(w)} ${nameOf(w)}'s pod template carries this ${kindOf(c.object)}'s hash`,
      );
    else out.push(`restarts ${part} (${kindOf(w)} ${nameOf(w)} changes too)`);
  }
  return out;
}

function userServerEffects(c: ObjectChange, spawner: KubeSpawnerSettings | undefined): string[] {
  const kind = kindOf(c.object);
  const name = nameOf(c.object);
  if (kind === "NetworkPolicy" && selectsUserPods(c.object, spawner)) {
    if (c.kind === "delete")
      return ["affects running user servers: this policy stops applying to their traffic"];
    if (c.kind === "create") return ["applies to user servers' traffic at once, running ones included"];
    return ["affects running user servers: their traffic follows these rules at once, without a restart"];
  }
  if (spawner === undefined || c.kind !== "update") return [];
  const volumes = spawner.volumes.filter((v) => v.config_map === name || v.persistent_volume_claim === name);
  if (kind === "PersistentVolumeClaim" && volumes.some((v) => v.persistent_volume_claim === name))
    return ["affects running user servers: their homes, group folders and environments are on this volume"];
  if (kind === "ConfigMap" && volumes.some((v) => v.config_map === name)) {
    const mounts = spawner.volume_mounts.filter((m) => volumes.some((v) => v.name === m.name));
    return mounts.every((m) => m.sub_path !== null)
      ? [
          "running user servers keep the files they started with (mounted by subPath); servers started after this get the new ones",
        ]
      : ["running user servers see the new files where they are mounted, without a restart"];
  }
  return [];
}

/** Profile and spawner settings in the hub's settings: they reach only servers started later. */
function settingsEffects(c: ObjectChange): string[] {
  const inSettings = c.fields.filter((f) => under(f, "data", HUB_SETTINGS_KEY));
  const profiles = inSettings.filter((f) => f.path.includes("profiles"));
  const spawner = inSettings.filter(
    (f) => under(f, "data", HUB_SETTINGS_KEY, "kube_spawner") && !profiles.includes(f),
  );
  const out: string[] = [];
  if (profiles.length)
    out.push(
      "profile changes only affect new servers: running ones keep the resources and placement they started with",
    );
  if (spawner.length)
    out.push("user-server settings (image, volumes, ids) only affect new servers: running ones keep theirs");
  return out;
}

/** What applying `c` restarts or affects, one line each; `all` are the plan's other object changes. */
export function effectsOf(c: ObjectChange, all: readonly ObjectChange[], rendered: readonly Obj[]): string[] {
  const kind = kindOf(c.object);
  const spawner = userServers(rendered);
  if (c.kind === "update" && c.fields.length === 0)
    return ["the cluster already has it: applying changes nothing"];
  const out: string[] = [];
  if (WORKLOADS.has(kind)) out.push(...workloadEffects(c));
  if (kind === "Job" && c.kind !== "delete")
    out.push(
      c.kind === "create"
        ? `runs Job ${nameOf(c.object)}`
        : `replaces Job ${nameOf(c.object)} and runs it again (a Job's pods cannot change)`,
    );
  if (kind === "ConfigMap" || kind === "Secret") {
    out.push(...configEffects(c, all, rendered));
    out.push(...settingsEffects(c));
  }
  out.push(...userServerEffects(c, spawner));
  return out;
}
