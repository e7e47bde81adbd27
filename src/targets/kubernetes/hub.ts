/**
 * The hub: its Service inside the cluster and its Deployment. One replica, replaced
 * with Recreate (its sqlite database is on a ReadWriteOnce volume only one pod may
 * mount). An init container builds the hub and user Python environments onto the
 * shared volume from the same hashed lockfiles as the local target's (each in a folder
 * named by its lock's hash, switched atomically; an unchanged lock builds nothing) and
 * unpacks the hub glue; the hub then runs JupyterHub from that environment. The pod
 * template carries the settings' hash (and with OIDC the client secret's digest), so
 * changed settings or a new secret restart the hub (it reads them only at start) and
 * nothing else does.
 */

import { hashOf } from "../../lib/hash.js";
import { HUB_CONFIG_PY_KEY, HUB_SETTINGS_KEY } from "./config.js";
import { dataOwnerContainer } from "./data-owner.js";
import { envBuildScript, RESTRICTED } from "./env-build.js";
import { ENV_SOURCE_KEYS, envSourcesVolume } from "./env-sources.js";
import { metaOf, type RenderInput } from "./meta.js";
import type { KubeObject, RenderedObject } from "./objects.js";
import { instanceLabels, selectorOf } from "./placement.js";
import {
  ENV_SOURCES_DIR,
  ENVS_MOUNT,
  GLUE_DIR,
  HUB_CONFIG_DIR,
  HUB_CONFIG_PY,
  HUB_DATA_DIR,
  HUB_ENV,
  HUB_PORT,
  HUB_SETTINGS_FILE,
  HUB_UID,
  SECRETS_DIR,
} from "./pod-paths.js";
import { clusterSecretSpecs, OIDC_CLIENT_KEY } from "./secrets.js";
import { videoChatInstallScript } from "./videochat-install.js";

export const HUB_COMPONENT = "hub";
export const SETTINGS_HASH_ANNOTATION = "atrium.dev/settings-hash";
export const ENV_SOURCES_HASH_ANNOTATION = "atrium.dev/env-sources-hash";
/** The OIDC client secret's digest: a new secret restarts the hub, which reads it at start. */
export const OIDC_CLIENT_DIGEST_ANNOTATION = "atrium.dev/oidc-client-secret-digest";
/** The platform's secrets the hub reads, as files. */
export const HUB_SECRETS = [
  "atrium_api_token",
  "cookie_secret",
  "dask_gateway_api_token",
  "envs_api_token",
  "passwords.json",
  "proxy_auth_token",
  "ssh_api_token",
];

/** Single sign-on's client secret, as the variable the file names, from its Secret (never in the render). */
function oidcSecretEnv(input: RenderInput): Record<string, unknown>[] {
  const auth = input.platform.auth;
  if (auth.type !== "oidc") return [];
  return [
    {
      name: auth.clientSecretEnv,
      valueFrom: { secretKeyRef: { name: input.placement.names.oidcClient, key: OIDC_CLIENT_KEY } },
    },
  ];
}

export function renderHub(input: RenderInput, settings: KubeObject): RenderedObject[] {
  const { platform, placement } = input;
  const { names, block } = placement;
  const project = platform.project.name;
  const secrets = clusterSecretSpecs(input)
    .map((s) => s.name)
    .filter((n) => HUB_SECRETS.includes(n));
  const data = settings.data as Record<string, string>;
  const service: KubeObject = {
    apiVersion: "v1",
    kind: "Service",
    metadata: metaOf(input, names.hub, HUB_COMPONENT),
    spec: {
      type: "ClusterIP",
      selector: selectorOf(project, HUB_COMPONENT),
      ports: [{ name: "http", port: HUB_PORT, targetPort: "http", protocol: "TCP" }],
    },
  };
  const deployment: KubeObject = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: metaOf(input, names.hub, HUB_COMPONENT),
    spec: {
      replicas: 1,
      strategy: { type: "Recreate" },
      selector: { matchLabels: selectorOf(project, HUB_COMPONENT) },
      template: {
        metadata: {
          labels: instanceLabels(project, HUB_COMPONENT),
          annotations: {
            [SETTINGS_HASH_ANNOTATION]: hashOf(data),
            [ENV_SOURCES_HASH_ANNOTATION]: input.sourceHashes.hub,
            ...(input.oidcClientDigest === null
              ? {}
              : { [OIDC_CLIENT_DIGEST_ANNOTATION]: input.oidcClientDigest }),
          },
        },
        spec: {
          serviceAccountName: names.hubServiceAccount,
          // KubeSpawner talks to the API server with the hub's account
          automountServiceAccountToken: true,
          securityContext: {
            runAsUser: HUB_UID,
            runAsGroup: HUB_UID,
            runAsNonRoot: true,
            fsGroup: HUB_UID,
            fsGroupChangePolicy: "OnRootMismatch",
            seccompProfile: { type: "RuntimeDefault" },
          },
          initContainers: [
            dataOwnerContainer(block.images.hub, HUB_UID, { name: "db", mountPath: HUB_DATA_DIR }),
            {
              name: "python-envs",
              image: block.images.hub,
              imagePullPolicy: "IfNotPresent",
              command: [
                "/bin/sh",
                "-c",
                envBuildScript(
                  block.index_url,
                  [
                    ["hub", ENV_SOURCE_KEYS.hubLock],
                    ["user", ENV_SOURCE_KEYS.userLock],
                  ],
                  [
                    `tar -xzf ${ENV_SOURCES_DIR}/${ENV_SOURCE_KEYS.glue} -C ${GLUE_DIR}`,
                    videoChatInstallScript(input.platform.videochat.enabled),
                  ].join("\n"),
                ),
              ],
              env: [{ name: "HOME", value: "/tmp" }],
              securityContext: RESTRICTED,
              volumeMounts: [
                { name: "envs", mountPath: ENVS_MOUNT, subPath: placement.envsDir },
                { name: "env-sources", mountPath: ENV_SOURCES_DIR, readOnly: true },
                { name: "glue", mountPath: GLUE_DIR },
                { name: "tmp", mountPath: "/tmp" },
              ],
            },
          ],
          containers: [
            {
              name: "hub",
              image: block.images.hub,
              imagePullPolicy: "IfNotPresent",
              command: [`${HUB_ENV}/bin/jupyterhub`, "--config", HUB_CONFIG_PY],
              workingDir: HUB_DATA_DIR,
              env: [
                { name: "ATRIUM_HUB_CONFIG", value: HUB_SETTINGS_FILE },
                { name: "PYTHONPATH", value: GLUE_DIR },
                { name: "HOME", value: HUB_DATA_DIR },
                // the image's passwd has no entry for the hub's uid: who it is, for getpass
                { name: "USER", value: "jupyterhub" },
                { name: "LOGNAME", value: "jupyterhub" },
                ...oidcSecretEnv(input),
              ],
              ports: [{ name: "http", containerPort: HUB_PORT, protocol: "TCP" }],
              readinessProbe: { httpGet: { path: "/hub/health", port: "http" }, periodSeconds: 5 },
              resources: { requests: { cpu: "200m", memory: "512Mi" } },
              securityContext: RESTRICTED,
              volumeMounts: [
                { name: "settings", mountPath: HUB_CONFIG_DIR, readOnly: true },
                { name: "secrets", mountPath: SECRETS_DIR, readOnly: true },
                { name: "db", mountPath: HUB_DATA_DIR },
                { name: "envs", mountPath: ENVS_MOUNT, subPath: placement.envsDir, readOnly: true },
                { name: "glue", mountPath: GLUE_DIR, readOnly: true },
                { name: "tmp", mountPath: "/tmp" },
              ],
            },
          ],
          volumes: [
            {
              name: "settings",
              configMap: {
                name: names.hubSettings,
                items: [HUB_SETTINGS_KEY, HUB_CONFIG_PY_KEY].map((key) => ({ key, path: key })),
              },
            },
            {
              name: "secrets",
              secret: {
                secretName: names.secrets,
                defaultMode: 0o440,
                items: secrets.map((key) => ({ key, path: key })),
              },
            },
            { name: "db", persistentVolumeClaim: { claimName: names.hubDatabase } },
            { name: "envs", persistentVolumeClaim: { claimName: names.sharedClaim } },
            envSourcesVolume(),
            { name: "glue", emptyDir: {} },
            { name: "tmp", emptyDir: {} },
          ],
        },
      },
    },
  };
  return [
    { wave: "services", object: service },
    { wave: "workloads", object: deployment },
  ];
}
