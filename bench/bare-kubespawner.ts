/**
 * A bare JupyterHub with KubeSpawner in a namespace of its own, beside an Atrium platform on
 * the same cluster, for comparing spawn latency: only the hub side differs. It runs in
 * Atrium's hub image, from the hub environment Atrium built on the shared volume (that
 * folder of the host mounted read-only: the test cluster has one node), with
 * configurable-http-proxy beside it in the same pod; KubeSpawner keeps its defaults except
 * what running here needs: Atrium's user image and single-user command, the user
 * environment from the same folder, the user's uid and gid (the server refuses root), a
 * writable HOME (the uid has no passwd entry), and the hub's in-cluster address. The bench
 * reaches it through its Service's cluster address and a service token.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import {
  AppsV1Api,
  CoreV1Api,
  type KubeConfig,
  RbacAuthorizationV1Api,
  type V1Container,
} from "@kubernetes/client-node";
import type { HubSettings } from "../src/contracts/hub-settings.js";
import { HUB_CONFIG_PY_KEY, HUB_SETTINGS_KEY } from "../src/targets/kubernetes/config.js";
import { objectNames, VOLUME_DIRS } from "../src/targets/kubernetes/placement.js";
import { ENVS_MOUNT, HUB_ENV, HUB_PORT, HUB_UID } from "../src/targets/kubernetes/pod-paths.js";
import { HUB_ROLE_RULES } from "../src/targets/kubernetes/rbac.js";
import { waitForPod } from "../test/cluster/pods.js";
import type { TeamSite } from "../test/cluster/team-deploy.js";
import { type Hub, hubApi } from "./hub-spawn.js";

const PROXY_PORT = 8000;
const PROXY_API_PORT = 8001;
const DATA_DIR = "/srv/jupyterhub";
const CONFIG_DIR = "/etc/jupyterhub";
const LABELS = { app: "bare-hub" };

/** Python literals of strings, numbers and lists of them are their JSON. */
const py = (value: string | number | string[]) => JSON.stringify(value);

function configPy(namespace: string, user: string, spawner: SpawnerChoices): string {
  return `import os

c = get_config()  # noqa: F821
c.JupyterHub.authenticator_class = "null"
c.Authenticator.allowed_users = {${py(user)}}
c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"
c.JupyterHub.hub_bind_url = "http://0.0.0.0:${HUB_PORT}"
c.JupyterHub.hub_connect_url = "http://hub.${namespace}.svc.cluster.local:${HUB_PORT}"
c.ConfigurableHTTPProxy.should_start = False
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:${PROXY_API_PORT}"
c.JupyterHub.services = [{"name": "bench", "api_token": os.environ["BENCH_API_TOKEN"]}]
c.JupyterHub.load_roles = [
    {"name": "bench", "scopes": ["admin:users", "admin:servers"], "services": ["bench"]}
]
c.KubeSpawner.image = ${py(spawner.image)}
c.KubeSpawner.cmd = ${py(spawner.cmd)}
c.KubeSpawner.default_url = ${py(spawner.defaultUrl)}
c.KubeSpawner.uid = ${spawner.uid}
c.KubeSpawner.gid = ${spawner.gid}
c.KubeSpawner.environment = {"HOME": "/tmp"}
c.KubeSpawner.volumes = [{"name": "envs", "hostPath": {"path": ${py(spawner.envsDir)}, "type": "Directory"}}]
c.KubeSpawner.volume_mounts = [{"name": "envs", "mountPath": ${py(ENVS_MOUNT)}, "readOnly": True}]
`;
}

interface SpawnerChoices {
  image: string;
  cmd: string[];
  defaultUrl: string;
  uid: number;
  gid: number;
  /** The environments' folder on the host. */
  envsDir: string;
}

/** The images and the user's server as Atrium's platform in site runs them. */
async function atriumChoices(kc: KubeConfig, site: TeamSite, user: string) {
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const names = objectNames(site.namespace);
  const settingsMap = await core.readNamespacedConfigMap({
    name: names.hubSettings,
    namespace: site.namespace,
  });
  const settings = JSON.parse(settingsMap.data?.[HUB_SETTINGS_KEY] ?? "{}") as HubSettings;
  const kube = settings.kube_spawner;
  const me = kube?.users.find((u) => u.name === user);
  if (!kube || !me) throw new Error(`${site.namespace}: hub settings have no kube_spawner entry for ${user}`);
  const imageOf = async (name: string) => {
    const d = await apps.readNamespacedDeployment({ name, namespace: site.namespace });
    const image = d.spec?.template.spec?.containers[0]?.image;
    if (!image) throw new Error(`${site.namespace}: deployment ${name} has no image`);
    return image;
  };
  const spawner: SpawnerChoices = {
    image: kube.image,
    cmd: kube.cmd,
    defaultUrl: kube.default_url,
    uid: me.uid,
    gid: me.gid,
    envsDir: join(site.sharedDir, VOLUME_DIRS.envs),
  };
  return { hubImage: await imageOf(names.hub), proxyImage: await imageOf(names.proxy), spawner };
}

const RESTRICTED = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } };

function secretEnv(name: string, key: string) {
  return { name, valueFrom: { secretKeyRef: { name: "bare-hub", key } } };
}

function hubContainer(image: string): V1Container {
  return {
    name: "hub",
    image,
    imagePullPolicy: "IfNotPresent",
    command: [`${HUB_ENV}/bin/jupyterhub`, "--config", `${CONFIG_DIR}/${HUB_CONFIG_PY_KEY}`],
    workingDir: DATA_DIR,
    env: [
      { name: "HOME", value: DATA_DIR },
      // the image's passwd has no entry for the hub's uid: who it is, for getpass
      { name: "USER", value: "jupyterhub" },
      secretEnv("CONFIGPROXY_AUTH_TOKEN", "proxy-token"),
      secretEnv("BENCH_API_TOKEN", "api-token"),
    ],
    ports: [{ name: "hub", containerPort: HUB_PORT }],
    readinessProbe: { httpGet: { path: "/hub/health", port: HUB_PORT }, periodSeconds: 1 },
    securityContext: RESTRICTED,
    volumeMounts: [
      { name: "config", mountPath: CONFIG_DIR, readOnly: true },
      { name: "data", mountPath: DATA_DIR },
      { name: "envs", mountPath: ENVS_MOUNT, readOnly: true },
    ],
  };
}

function proxyContainer(image: string): V1Container {
  return {
    name: "proxy",
    image,
    imagePullPolicy: "IfNotPresent",
    command: [
      "configurable-http-proxy",
      "--ip=0.0.0.0",
      `--port=${PROXY_PORT}`,
      "--api-ip=127.0.0.1",
      `--api-port=${PROXY_API_PORT}`,
      `--default-target=http://127.0.0.1:${HUB_PORT}`,
      `--error-target=http://127.0.0.1:${HUB_PORT}/hub/error`,
    ],
    env: [secretEnv("CONFIGPROXY_AUTH_TOKEN", "proxy-token")],
    ports: [{ name: "http", containerPort: PROXY_PORT }],
    securityContext: RESTRICTED,
  };
}

/**
 * Makes the bare hub in `namespace` (which must not exist; the caller deletes it) for `user`,
 * next to Atrium's platform in site; returns it once its API answers through the proxy.
 */
export async function startBareHub(
  kc: KubeConfig,
  site: TeamSite,
  namespace: string,
  user: string,
): Promise<Hub> {
  const core = kc.makeApiClient(CoreV1Api);
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  const { hubImage, proxyImage, spawner } = await atriumChoices(kc, site, user);
  const token = randomBytes(32).toString("hex");
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await core.createNamespacedSecret({
    namespace,
    body: {
      metadata: { name: "bare-hub" },
      stringData: { "proxy-token": randomBytes(32).toString("hex"), "api-token": token },
    },
  });
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: "hub" } } });
  await rbac.createNamespacedRole({ namespace, body: { metadata: { name: "hub" }, rules: HUB_ROLE_RULES } });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: "hub" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "hub" },
      subjects: [{ kind: "ServiceAccount", name: "hub", namespace }],
    },
  });
  await core.createNamespacedConfigMap({
    namespace,
    body: {
      metadata: { name: "hub-config" },
      data: { [HUB_CONFIG_PY_KEY]: configPy(namespace, user, spawner) },
    },
  });
  const service = await core.createNamespacedService({
    namespace,
    body: {
      metadata: { name: "hub" },
      spec: {
        selector: LABELS,
        ports: [
          { name: "hub", port: HUB_PORT, targetPort: HUB_PORT },
          { name: "http", port: PROXY_PORT, targetPort: PROXY_PORT },
        ],
      },
    },
  });
  await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name: "hub", labels: LABELS },
      spec: {
        serviceAccountName: "hub",
        automountServiceAccountToken: true,
        terminationGracePeriodSeconds: 5,
        securityContext: {
          runAsUser: HUB_UID,
          runAsGroup: HUB_UID,
          runAsNonRoot: true,
          seccompProfile: { type: "RuntimeDefault" },
        },
        containers: [hubContainer(hubImage), proxyContainer(proxyImage)],
        volumes: [
          { name: "config", configMap: { name: "hub-config" } },
          { name: "data", emptyDir: {} },
          { name: "envs", hostPath: { path: spawner.envsDir, type: "Directory" } },
        ],
      },
    },
  });
  await waitForPod(kc, namespace, "hub", "ready", 300);
  const hub: Hub = {
    name: "bare JupyterHub",
    api: `http://${service.spec?.clusterIP}:${PROXY_PORT}/hub/api`,
    token,
  };
  const deadline = Date.now() + 60_000;
  while ((await hubApi(hub, "GET", "/").catch(() => ({ status: 0 }))).status !== 200) {
    if (Date.now() > deadline)
      throw new Error(`${namespace}: the bare hub's API does not answer at ${hub.api}`);
    await new Promise((res) => setTimeout(res, 200));
  }
  const created = await hubApi(hub, "POST", `/users/${user}`);
  if (![201, 409].includes(created.status))
    throw new Error(`${namespace}: making ${user} answered ${created.status} ${created.text}`);
  return hub;
}
