/**
 * The kubernetes target as a Target. It renders (atrium render writes its manifests),
 * plans and deploys against the cluster: the state from the Secret `atrium-state`,
 * each rendered object a component (cluster/object-component.ts) applied with
 * server-side apply in wave order, what left the file deleted, the uids and gids
 * allocated once and kept in the state (the identities component, first). Right after
 * the namespace come what the render only names: the lockfiles and hub glue as
 * ConfigMaps, the generated Secrets and the first admin's password. Plan reads and
 * writes nothing. Without a state the render allocates ids from an empty record (the
 * file's ids kept), the same on every run.
 */
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { CoreV1Api } from "@kubernetes/client-node";
import { problemsError } from "../../config/load.js";
import type { Config, KubernetesTargetConfig } from "../../config/schema.js";
import { hashOf } from "../../lib/hash.js";
import { derivePlatform } from "../../model/platform.js";
import type { Component } from "../component.js";
import { builtAll, environmentsComponent } from "../environments-component.js";
import { EnvsClient } from "../envs-client.js";
import { checkClientSecret, describeAuth } from "../oidc-client-secret.js";
import type { DeployLock, DeployState, StateStore, Target } from "../target.js";
import { type ClusterConnection, clusterError, connect } from "./cluster/connection.js";
import { destroyOnCluster } from "./cluster/destroy.js";
import { clusterEnvsEndpoint } from "./cluster/envs-endpoint.js";
import { leaseLock } from "./cluster/lease-lock.js";
import { leftoverComponents, type NamedObject, objectComponent } from "./cluster/object-component.js";
import { oidcClientDigest, oidcClientSecretComponent } from "./cluster/oidc-secret.js";
import { previewChanges } from "./cluster/online-plan.js";
import { clusterLogs, clusterStatus, LOG_NAMES, publicAddress } from "./cluster/runtime.js";
import {
  adminPasswordComponent,
  platformSecretsComponent,
  setClusterPassword,
  tlsSecretComponent,
} from "./cluster/secret-components.js";
import { secretStateStore } from "./cluster/state-secret.js";
import { type EnvSources, envSourceConfigMaps, readEnvSources } from "./env-sources.js";
import { allocateIdentities, EMPTY_IDENTITIES, fileIdentitiesOf, type IdentityRecord } from "./identities.js";
import { hostPathProblem } from "./nodes.js";
import { instanceLabels } from "./placement.js";
import { networkPolicyCheck } from "./policy-check.js";
import { type KubernetesRender, kubernetesArtifacts, renderKubernetes } from "./render.js";

export const IDENTITIES_COMPONENT = "identities";

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
  let sources: EnvSources | undefined;
  const envSources = () => {
    sources ??= readEnvSources(platform.videochat.enabled);
    return sources;
  };
  const renderWith = (state: DeployState | undefined) =>
    renderKubernetes(
      platform,
      block,
      allocateIdentities(recordedIdentities(state), platform, fileIds),
      { hub: envSources().hash, envs: envSources().envsHash, ssh: envSources().sshHash },
      oidcClientDigest(platform, state),
    );
  const offline = renderWith(undefined);
  const namespace = offline.placement.namespace;
  const labels = instanceLabels(platform.project.name, "deploy");
  let conn: ClusterConnection | undefined;
  const connection = () => {
    conn ??= connect(block.context);
    return conn;
  };
  let store: StateStore | undefined;
  const stateStore = (): StateStore => {
    const c = connection();
    store ??= secretStateStore(c, namespace, platform.project.name, mirrorFile(c.context, namespace), labels);
    return store;
  };
  let lock: DeployLock | undefined;
  const envsClient = (actAs?: string) =>
    new EnvsClient(() => clusterEnvsEndpoint(connection(), offline.placement), actAs);
  return {
    type: "kubernetes",
    platform,
    render: () => kubernetesArtifacts(offline),
    components(state) {
      const rendered = renderWith(state);
      const c = connection();
      const objects = rendered.objects.map((o) => objectComponent(c, o.object as NamedObject));
      const [namespaceObject, ...rest] = objects;
      const made = [
        namespaceObject,
        ...sourceComponents(c, rendered, envSources()),
        platformSecretsComponent(c, rendered.input),
        oidcClientSecretComponent(c, rendered.input),
        tlsSecretComponent(c, rendered.input),
        adminPasswordComponent(c, rendered.input),
        ...rest,
        // after the workloads are up: the service builds them
        environmentsComponent(platform.environments, {
          client: () => envsClient(),
          present: (envs) => builtAll(envsClient(), envs),
          upWithinMs: 180_000,
        }),
      ].filter((x): x is Component => x !== undefined);
      const names = new Set([IDENTITIES_COMPONENT, ...made.map((o) => o.name)]);
      return [identitiesComponent(rendered.identities), ...made, ...leftoverComponents(c, state, names)];
    },
    get state() {
      return stateStore();
    },
    get lock() {
      lock ??= leaseLock(connection(), { namespace, labels });
      return lock;
    },
    async preflight() {
      checkClientSecret(platform);
      const c = connection();
      let nodes: number;
      try {
        nodes = (await c.config.makeApiClient(CoreV1Api).listNode()).items.length;
      } catch (err) {
        throw clusterError(c, "listing the cluster's nodes", err);
      }
      const problem = hostPathProblem(block, nodes);
      if (problem) throw problemsError(configFile, [problem]);
    },
    checks: () => networkPolicyCheck(connection(), block, configFile),
    async status() {
      const c = connection();
      const status = await clusterStatus(
        c,
        offline.placement,
        platform.project.name,
        platform.dask.enabled,
        platform.ssh.enabled,
      );
      const url = await publicAddress(c, offline.placement);
      if (url) status.lines.splice(1, 0, `address: ${url}`);
      status.lines.splice(url ? 2 : 1, 0, `login: ${describeAuth(platform)}`);
      return status;
    },
    logNames: () => [...LOG_NAMES],
    logs: (name, options) =>
      clusterLogs(connection(), offline.placement, platform.project.name, name, options),
    async destroy(purge, progress) {
      const state = await this.state.load();
      await destroyOnCluster(
        connection(),
        renderWith(state).placement,
        platform.project.name,
        state,
        {
          purge,
          image: block.images.hub,
          sharedVolume: block.storage.host_path ? offline.placement.names.sharedVolume : undefined,
        },
        progress,
      );
    },
    endpoints: () => [],
    passwords: {
      set: async (user, password) => {
        const state = await stateStore().load();
        await setClusterPassword(connection(), renderWith(state).input, user, password);
      },
    },
    envs: (actAs) => envsClient(actAs),
    preview: (changes, components) => previewChanges(connection(), changes, components),
  };
}

/** The lockfiles and the hub glue as ConfigMaps; their outline is their hashes (a ConfigMap may be near 1 MiB). */
function sourceComponents(
  c: ClusterConnection,
  rendered: KubernetesRender,
  sources: EnvSources,
): Component[] {
  return envSourceConfigMaps(rendered.input, sources).map((cm) => {
    const component = objectComponent(c, cm as NamedObject);
    const data = { ...(cm.data as object | undefined), ...(cm.binaryData as object | undefined) };
    return { ...component, outline: { name: cm.metadata.name, content: hashOf(data) } };
  });
}
