/**
 * Dask clusters for every user on the cluster: the real dask-gateway-server with
 * Atrium's pod backend (python/atrium_hub/dask_pods.py), which makes each cluster's
 * scheduler and workers pods of the namespace running as their user. It needs no
 * CRDs, no controller and no Traefik: the gateway keeps its clusters in its own
 * database (on the shared volume, in a folder only its account may enter), so they
 * outlive a restart of it, and its own proxy routes to schedulers by SNI.
 *
 * Rendered: its settings (the dask-gateway contract with the `pods` section), its
 * ServiceAccount and a Role exactly as wide as the backend's work (make, read and
 * delete pods; make and delete each cluster's TLS Secret, never read one), its Service
 * and its Deployment, which runs from the hub's environment once the hub's pod has
 * built it. Pure.
 */

import { posix } from "node:path";
import type { DaskGatewaySettings } from "../../contracts/dask-gateway.js";
import type { HubService } from "../../contracts/hub-settings.js";
import { hashOf } from "../../lib/hash.js";
import { stableJson } from "../../lib/stable-json.js";
import type { Platform } from "../../model/platform.js";
import { gatewayLimits, gatewayWorkerProfiles } from "../dask-gateway-parts.js";
import {
  GATEWAY_COMPONENT,
  GATEWAY_PREFIX,
  GATEWAY_SERVICE,
  GATEWAY_TLS_PORT,
  GATEWAY_WEB_PORT,
  gatewayApiBase,
  SCHEDULER_COMPONENT,
  WORKER_COMPONENT,
} from "./dask-endpoints.js";
import { dataOwnerContainer } from "./data-owner.js";
import { RESTRICTED } from "./env-build.js";
import { ENV_SOURCE_KEYS, envSourcesVolume } from "./env-sources.js";
import { USER_CONTAINER_CONTEXT, userPodIdentities, userPodMounts, userPodVolumes } from "./kube-spawner.js";
import { metaOf, type RenderInput } from "./meta.js";
import type { KubeObject, RenderedObject } from "./objects.js";
import { instanceLabels, type KubernetesPlacement, selectorOf, VOLUME_DIRS } from "./placement.js";
import {
  DASK_ENVIRONMENTS_FILE,
  DASK_GATEWAY_CONFIG_DIR,
  DASK_GATEWAY_DATA_DIR,
  DASK_GATEWAY_UID,
  ENV_SOURCES_DIR,
  ENVS_MOUNT,
  GLUE_DIR,
  HUB_ENV,
  HUB_PORT,
  SECRETS_DIR,
  secretFile,
  USER_ENV,
} from "./pod-paths.js";

export const GATEWAY_SETTINGS_KEY = "gateway.json";
export const GATEWAY_CONFIG_PY_KEY = "dask_gateway_config.py";
/** Where the init container reads the Secret volume from. */
const SECRETS_SOURCE_DIR = "/etc/atrium/secret-source";

const GATEWAY_SECRETS = ["dask_gateway_api_token", "dask_gateway_db_key"];
/** What the pod template carries, so a change restarts the gateway (it reads them at start). */
export const GATEWAY_SETTINGS_HASH_ANNOTATION = "atrium.dev/dask-gateway-settings-hash";

export const GATEWAY_ROLE_RULES = [
  { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch", "create", "delete"] },
  // why a scheduler or worker ended, in the gateway's log
  { apiGroups: [""], resources: ["pods/log"], verbs: ["get"] },
  { apiGroups: [""], resources: ["secrets"], verbs: ["create", "patch", "delete"] },
  // each cluster's own NetworkPolicy: its pods reach each other, no other cluster's do
  { apiGroups: ["networking.k8s.io"], resources: ["networkpolicies"], verbs: ["create", "patch", "delete"] },
];

const CONFIG_PY = `# dask-gateway-server's settings come from gateway.json (path in ATRIUM_GATEWAY_CONFIG),
# rendered by Atrium; the code that applies them is atrium_hub.dask_gateway.
from atrium_hub.dask_gateway import apply, load_settings_from_env

apply(c, load_settings_from_env())  # noqa: F821 - c is provided by dask-gateway-server
`;

export function renderDaskGatewaySettings(
  platform: Platform,
  placement: KubernetesPlacement,
): DaskGatewaySettings {
  const { dask } = platform;
  const project = platform.project.name;
  return {
    project,
    hub_api_url: `http://${placement.names.hub}:${HUB_PORT}/hub/api`,
    service_name: GATEWAY_SERVICE,
    api_token_file: secretFile("dask_gateway_api_token"),
    db_url: `sqlite:///${posix.join(DASK_GATEWAY_DATA_DIR, "gateway.sqlite")}`,
    db_key_file: secretFile("dask_gateway_db_key"),
    // the private API: only the gateway's own proxy, in the same pod, talks to it
    address: "127.0.0.1:0",
    proxy: {
      address: `0.0.0.0:${GATEWAY_WEB_PORT}`,
      tcp_address: `0.0.0.0:${GATEWAY_TLS_PORT}`,
      prefix: GATEWAY_PREFIX,
    },
    api_url: `${gatewayApiBase(placement)}/api`,
    worker_profiles: gatewayWorkerProfiles(platform),
    scheduler_memory: dask.schedulerMemory,
    environments: [{ name: "default", bin: posix.join(USER_ENV, "bin"), users: null }],
    environments_file: DASK_ENVIRONMENTS_FILE,
    limits: gatewayLimits(platform),
    idle_timeout: dask.idleTimeout,
    pods: {
      namespace: placement.namespace,
      image: placement.block.images.user,
      image_pull_policy: "IfNotPresent",
      umask: "0002",
      scheduler_labels: instanceLabels(project, SCHEDULER_COMPONENT),
      worker_labels: instanceLabels(project, WORKER_COMPONENT),
      container_security_context: USER_CONTAINER_CONTEXT,
      volumes: userPodVolumes(placement),
      volume_mounts: userPodMounts(placement),
      users: userPodIdentities(platform, placement),
      worker_pools: dask.workerProfiles.map((w) => {
        const pool = placement.workerPools.get(w.name);
        return {
          name: w.name,
          node_selector: pool?.nodeSelector ?? {},
          tolerations: pool?.tolerations ?? [],
        };
      }),
      scheduler_cores: 1,
    },
  };
}

/**
 * The gateway's entry among the hub's services: its token, with which it asks the hub who
 * a user is, and every user's (and server's) access to it. No url: the hub's proxy does
 * not route to it, so schedulers' dashboards are not public (the gateway's proxy serves
 * them unauthenticated).
 */
export function daskGatewayHubService(): HubService {
  return { name: GATEWAY_SERVICE, api_token_file: secretFile("dask_gateway_api_token"), user_access: true };
}

/** Waits for the hub's pod to finish building the hub environment this lockfile makes, then unpacks the glue. */
function waitForHubEnv(): string {
  return `${[
    "set -eu",
    `hash=$(sha256sum ${ENV_SOURCES_DIR}/${ENV_SOURCE_KEYS.hubLock} | cut -c1-16)`,
    `until [ -e ${ENVS_MOUNT}/hub-$hash/.atrium-complete ]; do`,
    `  echo "waiting for the hub's pod to build ${ENVS_MOUNT}/hub-$hash"; sleep 3`,
    "done",
    `tar -xzf ${ENV_SOURCES_DIR}/${ENV_SOURCE_KEYS.glue} -C ${GLUE_DIR}`,
  ].join("\n")}\n`;
}

export function renderDaskGateway(input: RenderInput): RenderedObject[] {
  const { platform, placement } = input;
  if (!platform.dask.enabled) return [];
  const { names, namespace, block } = placement;
  const project = platform.project.name;
  const meta = (name: string) => metaOf(input, name, GATEWAY_COMPONENT);
  const settings = renderDaskGatewaySettings(platform, placement);
  const data = { [GATEWAY_SETTINGS_KEY]: stableJson(settings), [GATEWAY_CONFIG_PY_KEY]: CONFIG_PY };
  const secrets = platform.secrets.map((s) => s.name).filter((n) => GATEWAY_SECRETS.includes(n));
  const deployment: KubeObject = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: meta(names.daskGateway),
    spec: {
      replicas: 1,
      // one gateway at a time on its database
      strategy: { type: "Recreate" },
      selector: { matchLabels: selectorOf(project, GATEWAY_COMPONENT) },
      template: {
        metadata: {
          labels: instanceLabels(project, GATEWAY_COMPONENT),
          annotations: {
            [GATEWAY_SETTINGS_HASH_ANNOTATION]: hashOf(data),
            "atrium.dev/env-sources-hash": input.sourceHashes.hub,
          },
        },
        spec: {
          serviceAccountName: names.daskGateway,
          // the backend makes and deletes pods through the API server
          automountServiceAccountToken: true,
          enableServiceLinks: false,
          securityContext: {
            runAsUser: DASK_GATEWAY_UID,
            runAsGroup: DASK_GATEWAY_UID,
            runAsNonRoot: true,
            seccompProfile: { type: "RuntimeDefault" },
          },
          initContainers: [
            // the database's folder on the shared volume: the gateway's alone
            dataOwnerContainer(block.images.hub, DASK_GATEWAY_UID, {
              name: "shared",
              mountPath: DASK_GATEWAY_DATA_DIR,
              subPath: VOLUME_DIRS.daskGateway,
            }),
            {
              // the secrets as files of the gateway's own account, 0600, in memory: a Secret
              // volume gives its files to root or to an fsGroup, and an fsGroup would also
              // reach the shared volume (a recursive chgrp of it)
              name: "secret-files",
              image: block.images.hub,
              imagePullPolicy: "IfNotPresent",
              command: [
                "/bin/sh",
                "-c",
                `cp ${SECRETS_SOURCE_DIR}/* ${SECRETS_DIR}/ && chown ${DASK_GATEWAY_UID}:${DASK_GATEWAY_UID} ${SECRETS_DIR}/* && chmod 0600 ${SECRETS_DIR}/*`,
              ],
              securityContext: {
                runAsUser: 0,
                runAsNonRoot: false,
                allowPrivilegeEscalation: false,
                capabilities: { drop: ["ALL"], add: ["CHOWN", "FOWNER"] },
              },
              volumeMounts: [
                { name: "secret-source", mountPath: SECRETS_SOURCE_DIR, readOnly: true },
                { name: "secrets", mountPath: SECRETS_DIR },
              ],
            },
            {
              name: "hub-env",
              image: block.images.hub,
              imagePullPolicy: "IfNotPresent",
              command: ["/bin/sh", "-c", waitForHubEnv()],
              securityContext: RESTRICTED,
              volumeMounts: [
                { name: "shared", mountPath: ENVS_MOUNT, subPath: placement.envsDir, readOnly: true },
                { name: "env-sources", mountPath: ENV_SOURCES_DIR, readOnly: true },
                { name: "glue", mountPath: GLUE_DIR },
              ],
            },
          ],
          containers: [
            {
              name: "gateway",
              image: block.images.hub,
              imagePullPolicy: "IfNotPresent",
              command: [
                `${HUB_ENV}/bin/dask-gateway-server`,
                "-f",
                posix.join(DASK_GATEWAY_CONFIG_DIR, GATEWAY_CONFIG_PY_KEY),
              ],
              workingDir: DASK_GATEWAY_DATA_DIR,
              env: [
                {
                  name: "ATRIUM_GATEWAY_CONFIG",
                  value: posix.join(DASK_GATEWAY_CONFIG_DIR, GATEWAY_SETTINGS_KEY),
                },
                { name: "JUPYTERHUB_SERVICE_NAME", value: GATEWAY_SERVICE },
                { name: "PYTHONPATH", value: GLUE_DIR },
                { name: "HOME", value: DASK_GATEWAY_DATA_DIR },
                { name: "USER", value: "dask-gateway" },
              ],
              ports: [
                { name: "web", containerPort: GATEWAY_WEB_PORT, protocol: "TCP" },
                { name: "tls", containerPort: GATEWAY_TLS_PORT, protocol: "TCP" },
              ],
              readinessProbe: {
                httpGet: { path: `${GATEWAY_PREFIX}/api/health`, port: "web" },
                periodSeconds: 5,
              },
              resources: { requests: { cpu: "50m", memory: "256Mi" } },
              securityContext: RESTRICTED,
              volumeMounts: [
                { name: "settings", mountPath: DASK_GATEWAY_CONFIG_DIR, readOnly: true },
                { name: "secrets", mountPath: SECRETS_DIR, readOnly: true },
                { name: "shared", mountPath: DASK_GATEWAY_DATA_DIR, subPath: VOLUME_DIRS.daskGateway },
                { name: "shared", mountPath: ENVS_MOUNT, subPath: placement.envsDir, readOnly: true },
                { name: "glue", mountPath: GLUE_DIR, readOnly: true },
              ],
            },
          ],
          volumes: [
            { name: "settings", configMap: { name: names.daskGateway } },
            {
              // the gateway's two secrets only, root's until the init container copies them
              name: "secret-source",
              secret: {
                secretName: names.secrets,
                defaultMode: 0o400,
                items: secrets.map((key) => ({ key, path: key })),
              },
            },
            { name: "secrets", emptyDir: { medium: "Memory", sizeLimit: "1Mi" } },
            { name: "shared", persistentVolumeClaim: { claimName: names.sharedClaim } },
            envSourcesVolume(),
            { name: "glue", emptyDir: {} },
          ],
        },
      },
    },
  };
  return [
    {
      wave: "rbac",
      object: {
        apiVersion: "v1",
        kind: "ServiceAccount",
        metadata: meta(names.daskGateway),
        automountServiceAccountToken: false,
      },
    },
    {
      wave: "rbac",
      object: {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "Role",
        metadata: meta(names.daskGateway),
        rules: GATEWAY_ROLE_RULES,
      },
    },
    {
      wave: "rbac",
      object: {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: meta(names.daskGateway),
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: names.daskGateway },
        subjects: [{ kind: "ServiceAccount", name: names.daskGateway, namespace }],
      },
    },
    {
      wave: "config",
      object: { apiVersion: "v1", kind: "ConfigMap", metadata: meta(names.daskGateway), data },
    },
    {
      wave: "services",
      object: {
        apiVersion: "v1",
        kind: "Service",
        metadata: meta(names.daskGateway),
        spec: {
          type: "ClusterIP",
          selector: selectorOf(project, GATEWAY_COMPONENT),
          ports: [
            { name: "web", port: GATEWAY_WEB_PORT, targetPort: "web", protocol: "TCP" },
            { name: "tls", port: GATEWAY_TLS_PORT, targetPort: "tls", protocol: "TCP" },
          ],
        },
      },
    },
    { wave: "workloads", object: deployment },
  ];
}
