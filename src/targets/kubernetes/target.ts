/**
 * The kubernetes target as a Target. It renders (atrium render writes its manifests)
 * and plans against the cluster: the state from the Secret `atrium-state`, each
 * rendered object a component (cluster/object-component.ts), what left the file a
 * delete, the uids and gids allocated once and kept in the state (the identities
 * component, first). Plan reads and writes nothing. Deploy and the runtime commands
 * still refuse with one clear error: the hub's environment is not built on the
 * cluster yet. Without a state the render allocates ids from an empty record (the
 * file's ids kept), the same on every run.
 */
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { Config, KubernetesTargetConfig } from "../../config/schema.js";
import { AtriumError } from "../../errors.js";
import { derivePlatform } from "../../model/platform.js";
import type { Component } from "../component.js";
import type { DeployLock, DeployState, StateStore, Target } from "../target.js";
import { type ClusterConnection, connect } from "./cluster/connection.js";
import { leaseLock } from "./cluster/lease-lock.js";
import { leftoverComponents, type NamedObject, objectComponent } from "./cluster/object-component.js";
import { previewChanges } from "./cluster/online-plan.js";
import { secretStateStore } from "./cluster/state-secret.js";
import { allocateIdentities, EMPTY_IDENTITIES, fileIdentitiesOf, type IdentityRecord } from "./identities.js";
import { instanceLabels } from "./placement.js";
import { kubernetesArtifacts, renderKubernetes } from "./render.js";

export const NOT_DEPLOYABLE =
  "not supported yet: the kubernetes target renders and plans but cannot deploy yet";
export const IDENTITIES_COMPONENT = "identities";

function notYet(): never {
  throw new AtriumError(
    "not-supported",
    NOT_DEPLOYABLE,
    "atrium plan shows what a deploy would change and atrium render -o DIR writes the manifests; deploying them is not built yet",
  );
}

function kubernetesBlock(config: Config): KubernetesTargetConfig {
  if (config.target.type !== "kubernetes") throw new Error("kubernetesTarget called for another target");
  return config.target;
}

/** The ids the state recorded (the identities component's data), or none yet. */
export function recordedIdentities(state: DeployState | undefined): IdentityRecord {
  const data = state?.components[IDENTITIES_COMPONENT]?.data as IdentityRecord | undefined;
  return data ?? EMPTY_IDENTITIES;
}

/** Keeps the allocated ids in the state before any object uses them; nothing in the cluster. */
function identitiesComponent(record: IdentityRecord): Component {
  return {
    name: IDENTITIES_COMPONENT,
    title: "uids and gids of users and groups (allocated once, never reused)",
    spec: record,
    async apply() {
      return {
        note: `${Object.keys(record.users).length} users, ${Object.keys(record.groups).length} groups`,
        data: record,
      };
    },
  };
}

/** Where the state's local copy goes (root-only), for reading without the cluster. */
function mirrorFile(context: string, namespace: string): string {
  const base = process.env.XDG_STATE_HOME ?? join(homedir(), ".local", "state");
  return join(base, "atrium", "kubernetes", context, `${namespace}.json`);
}

export function kubernetesTarget(config: Config, configFile: string): Target {
  const platform = derivePlatform(config, dirname(resolve(configFile)));
  const block = kubernetesBlock(config);
  const fileIds = fileIdentitiesOf(config);
  const renderWith = (state: DeployState | undefined) =>
    renderKubernetes(platform, block, allocateIdentities(recordedIdentities(state), platform, fileIds));
  const offline = renderWith(undefined);
  const namespace = offline.placement.namespace;
  const labels = instanceLabels(platform.project.name, "deploy");
  let conn: ClusterConnection | undefined;
  const connection = () => {
    conn ??= connect(block.context);
    return conn;
  };
  let store: StateStore | undefined;
  let lock: DeployLock | undefined;
  return {
    type: "kubernetes",
    platform,
    render: () => kubernetesArtifacts(offline),
    components(state) {
      const rendered = renderWith(state);
      const c = connection();
      const objects = rendered.objects.map((o) => objectComponent(c, o.object as NamedObject));
      const names = new Set([IDENTITIES_COMPONENT, ...objects.map((o) => o.name)]);
      return [identitiesComponent(rendered.identities), ...objects, ...leftoverComponents(c, state, names)];
    },
    get state() {
      const c = connection();
      store ??= secretStateStore(
        c,
        namespace,
        platform.project.name,
        mirrorFile(c.context, namespace),
        labels,
      );
      return store;
    },
    get lock() {
      lock ??= leaseLock(connection(), { namespace, labels });
      return lock;
    },
    preflight: async () => notYet(),
    status: async () => notYet(),
    logNames: () => [],
    logs: async () => notYet(),
    destroy: async () => notYet(),
    endpoints: () => [],
    preview: (changes, components) => previewChanges(connection(), changes, components),
  };
}
