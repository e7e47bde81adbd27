/** The kubernetes render, object family by object family, and the render as a whole. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hubSettings } from "../../src/contracts/hub-settings.js";
import { renderAccountFiles } from "../../src/targets/kubernetes/accounts.js";
import { renderConfigMaps } from "../../src/targets/kubernetes/config.js";
import { renderHub } from "../../src/targets/kubernetes/hub.js";
import { renderKubeSpawner } from "../../src/targets/kubernetes/kube-spawner.js";
import { renderNamespace } from "../../src/targets/kubernetes/namespace.js";
import type { KubeObject, RenderedObject } from "../../src/targets/kubernetes/objects.js";
import { PART_OF_LABEL } from "../../src/targets/kubernetes/placement.js";
import { renderPolicies } from "../../src/targets/kubernetes/policies.js";
import { renderProxy } from "../../src/targets/kubernetes/proxy.js";
import { HUB_ROLE_RULES, renderRbac } from "../../src/targets/kubernetes/rbac.js";
import { kubernetesArtifacts, renderKubernetes } from "../../src/targets/kubernetes/render.js";
import { renderStorage } from "../../src/targets/kubernetes/storage.js";
import { prepareScript, renderStoragePrepare } from "../../src/targets/kubernetes/storage-prepare.js";
import { configOf } from "./config-of.js";
import { type Kube, kubeOf, kubeYaml, TEST_SOURCES_HASHES, teamKube } from "./k8s-of.js";

const hostPath = "  storage:\n    host_path:\n      path: /srv/lab\n";
const kinds = (objects: RenderedObject[]) =>
  objects.map((o) => `${o.wave} ${o.object.kind}/${o.object.metadata.name}`);
// biome-ignore lint/suspicious/noExplicitAny: the tests read deep into plain JSON objects
const spec = (o: KubeObject | undefined) => (o?.spec ?? {}) as Record<string, any>;
const byKind = (objects: RenderedObject[], kind: string, name?: string) =>
  objects.find((o) => o.object.kind === kind && (name === undefined || o.object.metadata.name === name))
    ?.object;
const render = (k: Kube) => renderKubernetes(k.platform, k.block, k.identities, TEST_SOURCES_HASHES);

describe("kubernetes render", () => {
  it("lists every object once, in apply-wave order", () => {
    assert.deepEqual(kinds(render(teamKube()).objects), [
      "namespace Namespace/team",
      "rbac ServiceAccount/hub",
      "rbac Role/hub",
      "rbac RoleBinding/hub",
      "rbac ServiceAccount/dask-gateway",
      "rbac Role/dask-gateway",
      "rbac RoleBinding/dask-gateway",
      "rbac ServiceAccount/ssh-gateway",
      "rbac Role/ssh-gateway",
      "rbac RoleBinding/ssh-gateway",
      "config ConfigMap/hub-settings",
      "config ConfigMap/accounts",
      "config PersistentVolume/atrium-team-shared",
      "config PersistentVolumeClaim/shared",
      "config PersistentVolumeClaim/hub-db",
      "config ConfigMap/envs-config",
      "config ConfigMap/dask-gateway",
      "config ConfigMap/ssh-gateway",
      "config ConfigMap/ssh-status",
      "services Service/proxy-api",
      "services Service/proxy-public",
      "services Service/hub",
      "services Service/envs",
      "services Service/dask-gateway",
      "services Service/ssh-gateway",
      `workloads Job/${byKind(render(teamKube()).objects, "Job")?.metadata.name}`,
      "workloads Deployment/proxy",
      "workloads Deployment/hub",
      "workloads Deployment/envs",
      "workloads Deployment/dask-gateway",
      "workloads Deployment/ssh-gateway",
      "policies NetworkPolicy/default-deny",
      "policies NetworkPolicy/hub",
      "policies NetworkPolicy/proxy",
      "policies NetworkPolicy/envs",
      "policies NetworkPolicy/singleuser",
      "policies NetworkPolicy/dask-gateway",
      "policies NetworkPolicy/dask-scheduler",
      "policies NetworkPolicy/dask-worker",
      "policies NetworkPolicy/ssh-gateway",
    ]);
  });

  it("is deterministic, and every object carries the inventory label and its namespace", () => {
    const k = teamKube();
    assert.deepEqual([...kubernetesArtifacts(render(k))], [...kubernetesArtifacts(render(teamKube()))]);
    for (const { object } of render(k).objects) {
      assert.equal(object.metadata.labels?.[PART_OF_LABEL], k.input.placement.applySet, object.kind);
      const clusterWide = ["Namespace", "PersistentVolume"].includes(object.kind);
      assert.equal(object.metadata.namespace, clusterWide ? undefined : "team", object.kind);
    }
  });

  it("holds no secret value: Secrets are referred to by name, and listed by name and kind", () => {
    const r = render(teamKube());
    assert.equal(
      r.objects.some((o) => o.object.kind === "Secret"),
      false,
    );
    const text = [...kubernetesArtifacts(r).values()].join("\n");
    assert.doesNotMatch(text, /[0-9a-f]{32}/);
    assert.deepEqual(
      r.secrets.map((s) => [s.secret, s.key, s.kind]),
      [
        ["atrium-secrets", "dask_gateway_api_token", "random"],
        ["atrium-secrets", "dask_gateway_db_key", "fernet"],
        ["atrium-secrets", "cookie_secret", "random"],
        ["atrium-secrets", "proxy_auth_token", "random"],
        ["atrium-secrets", "passwords.json", "json-object"],
        ["atrium-secrets", "envs_api_token", "random"],
        ["atrium-secrets", "atrium_api_token", "random"],
        ["atrium-secrets", "ssh_api_token", "random"],
        ["atrium-secrets", "ssh_host_key", "ssh-host-key"],
        ["proxy-tls", null, "tls-self-signed"],
      ],
    );
  });

  it("makes the Namespace with Pod Security's baseline level enforced", () => {
    const ns = renderNamespace(teamKube().input)[0]?.object;
    assert.equal(ns?.metadata.labels?.["pod-security.kubernetes.io/enforce"], "baseline");
  });

  it("gives the hub a Role on pods and events only, bound to its ServiceAccount", () => {
    const objects = renderRbac(teamKube().input);
    assert.deepEqual(byKind(objects, "Role")?.rules, HUB_ROLE_RULES);
    assert.deepEqual(HUB_ROLE_RULES, [
      { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch", "create", "delete"] },
      { apiGroups: [""], resources: ["events"], verbs: ["get", "list", "watch"] },
    ]);
    const binding = byKind(objects, "RoleBinding");
    assert.deepEqual(binding?.subjects, [{ kind: "ServiceAccount", name: "hub", namespace: "team" }]);
    assert.deepEqual(binding?.roleRef, { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "hub" });
  });

  it("puts hub settings in a ConfigMap that the hub-settings contract accepts", () => {
    const k = teamKube();
    const data = byKind(renderConfigMaps(k.input), "ConfigMap", "hub-settings")?.data as Record<
      string,
      string
    >;
    const raw = JSON.parse(data["atrium_hub.json"] ?? "{}");
    const settings = hubSettings.parse(raw);
    assert.equal(settings.spawner, null);
    // exactly one spawner: neither is refused
    assert.equal(hubSettings.safeParse({ ...raw, kube_spawner: undefined }).success, false);
    assert.equal(settings.proxy.api_url, "http://proxy-api:8001");
    // a node port's address is not known to the render: the hub builds redirects per request
    assert.equal(settings.hub.public_url, null);
    assert.equal(settings.proxy.auth_token_file, "/etc/atrium/secrets/proxy_auth_token");
    assert.deepEqual(
      settings.groups.map((g) => [g.name, g.shared_folder]),
      [
        ["analysts", "/shared/analysts"],
        ["modelers", "/shared/modelers"],
        ["ops", null],
      ],
    );
    assert.match(data["jupyterhub_config.py"] ?? "", /load_settings_from_env/);
  });

  it("generates passwd and group lines with names for every uid and gid", () => {
    const k = kubeOf(configOf(kubeYaml(hostPath)));
    const files = renderAccountFiles(k.platform, k.input.placement);
    assert.deepEqual(files.passwd.split("\n"), [
      "root:x:0:0:root:/root:/bin/bash",
      "atrium-hub:x:999:999:Atrium hub:/srv/jupyterhub:/usr/sbin/nologin",
      "ada:x:10000:10000::/home/ada:/bin/bash",
      "bob:x:10001:10001::/home/bob:/bin/bash",
      "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin",
      "",
    ]);
    assert.deepEqual(files.group.split("\n"), [
      "root:x:0:",
      "atrium-hub:x:999:",
      "ada:x:10000:",
      "bob:x:10001:",
      "ml:x:10002:ada,bob",
      "viz:x:10003:bob",
      "nogroup:x:65534:",
      "",
    ]);
  });

  it("runs each user's pod as the user, unprivileged, with home, group folders and read-only envs", () => {
    const k = kubeOf(configOf(kubeYaml(hostPath)));
    const spawner = renderKubeSpawner(k.platform, k.input.placement);
    assert.deepEqual(spawner.container_security_context, {
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
    assert.equal(spawner.umask, "0002");
    assert.equal(spawner.cmd.slice(0, 3).join(" "), '/bin/sh -c umask 0002 && exec "$@"');
    assert.deepEqual(
      spawner.users.find((u) => u.name === "bob"),
      {
        name: "bob",
        uid: 10001,
        gid: 10001,
        supplemental_gids: [10002, 10003],
        // viz has no shared folder: no mount for it
        volume_mounts: [
          { name: "shared", mount_path: "/home/bob", sub_path: "home/bob", read_only: false },
          { name: "shared", mount_path: "/shared/ml", sub_path: "shared/ml", read_only: false },
        ],
      },
    );
    assert.deepEqual(spawner.volume_mounts, [
      { name: "shared", mount_path: "/opt/atrium/envs", sub_path: "envs", read_only: true },
      { name: "accounts", mount_path: "/etc/passwd", sub_path: "passwd", read_only: true },
      { name: "accounts", mount_path: "/etc/group", sub_path: "group", read_only: true },
    ]);
    assert.equal(PART_OF_LABEL in spawner.pod_labels, false);
  });

  it("gives each profile its pool's selector and tolerations, and GPUs as extra limits", () => {
    const k = teamKube((t) => t.replace("    node_pool: highmem\n", "    node_pool: highmem\n    gpus: 1\n"));
    const large = renderKubeSpawner(k.platform, k.input.placement).profiles.find((p) => p.name === "large");
    assert.deepEqual(large, {
      name: "large",
      node_selector: { "atrium.dev/pool": "highmem", "hub.jupyter.org/node-purpose": "user" },
      tolerations: [{ key: "atrium.dev/pool", operator: "Equal", value: "highmem", effect: "NoSchedule" }],
      extra_resource_limits: { "nvidia.com/gpu": "1" },
    });
  });

  it("makes a static volume pinned to its claim for host_path and nfs, and only a claim for a class", () => {
    const host = renderStorage(kubeOf(configOf(kubeYaml(hostPath))).input);
    assert.deepEqual(spec(byKind(host, "PersistentVolume")), {
      accessModes: ["ReadWriteMany"],
      capacity: { storage: "1Gi" },
      claimRef: { namespace: "lab", name: "shared" },
      persistentVolumeReclaimPolicy: "Retain",
      storageClassName: "",
      hostPath: { path: "/srv/lab", type: "DirectoryOrCreate" },
    });
    assert.equal(spec(byKind(host, "PersistentVolumeClaim", "shared")).volumeName, "atrium-lab-shared");
    const nfs = renderStorage(
      kubeOf(configOf(kubeYaml("  storage:\n    nfs:\n      server: 10.1.2.3\n      path: /x\n"))).input,
    );
    assert.deepEqual(spec(byKind(nfs, "PersistentVolume")).nfs, { server: "10.1.2.3", path: "/x" });
    const dynamic = renderStorage(
      kubeOf(
        configOf(
          kubeYaml(
            "  storage:\n    storage_class: efs\n    size: 50Gi\n  hub_storage:\n    size: 2Gi\n    storage_class: gp3\n",
          ),
        ),
      ).input,
    );
    assert.equal(byKind(dynamic, "PersistentVolume"), undefined);
    assert.deepEqual(spec(byKind(dynamic, "PersistentVolumeClaim", "shared")), {
      accessModes: ["ReadWriteMany"],
      resources: { requests: { storage: "50Gi" } },
      storageClassName: "efs",
    });
    assert.deepEqual(spec(byKind(dynamic, "PersistentVolumeClaim", "hub-db")), {
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: "2Gi" } },
      storageClassName: "gp3",
    });
  });

  it("runs the hub with Recreate on its own database volume, restarted by a settings change only", () => {
    const hubOf = (k: Kube) => {
      const settings = byKind(renderConfigMaps(k.input), "ConfigMap", "hub-settings");
      if (settings === undefined) throw new Error("no settings");
      return spec(byKind(renderHub(k.input, settings), "Deployment"));
    };
    const hub = hubOf(teamKube());
    assert.deepEqual(hub.strategy, { type: "Recreate" });
    assert.equal(hub.replicas, 1);
    const pod = hub.template.spec;
    assert.equal(pod.serviceAccountName, "hub");
    assert.deepEqual(
      pod.volumes.find((v: { name: string }) => v.name === "db"),
      { name: "db", persistentVolumeClaim: { claimName: "hub-db" } },
    );
    assert.deepEqual(pod.containers[0].command, [
      "/opt/atrium/envs/hub/bin/jupyterhub",
      "--config",
      "/etc/atrium/hub/jupyterhub_config.py",
    ]);
    const items = pod.volumes.find((v: { name: string }) => v.name === "secrets").secret.items;
    assert.deepEqual(
      items.map((i: { key: string }) => i.key),
      [
        "dask_gateway_api_token",
        "cookie_secret",
        "proxy_auth_token",
        "passwords.json",
        "envs_api_token",
        "atrium_api_token",
        "ssh_api_token",
      ],
    );
    const hash = (k: Kube) => hubOf(k).template.metadata.annotations["atrium.dev/settings-hash"];
    assert.equal(hash(teamKube((t) => t.replace("port: 30080", "port: 30081"))), hash(teamKube()));
    assert.notEqual(hash(teamKube((t) => t.replace("timeout: 1h", "timeout: 2h"))), hash(teamKube()));
  });

  it("tells the hub its public address only where the file gives it (an ingress host)", () => {
    const hubPublicUrl = (k: Kube) => {
      const data = byKind(renderConfigMaps(k.input), "ConfigMap", "hub-settings")?.data as Record<
        string,
        string
      >;
      return hubSettings.parse(JSON.parse(data["atrium_hub.json"] ?? "{}")).hub.public_url;
    };
    assert.equal(hubPublicUrl(teamKube()), null);
    assert.equal(hubPublicUrl(kubeOf(configOf(kubeYaml(hostPath)))), null);
    const ingress = kubeOf(
      configOf(
        kubeYaml(
          `  expose:\n    type: Ingress\n    host: hub.example.com\n    class: nginx\n${hostPath}  https:\n    mode: self-signed\n`,
        ),
      ),
    );
    assert.equal(hubPublicUrl(ingress), "https://hub.example.com");
  });

  it("exposes the proxy as the file says: node port, load balancer, or an ingress host", () => {
    const publicOf = (k: Kube) => renderProxy(k.input);
    const nodePort = publicOf(teamKube());
    assert.deepEqual(spec(byKind(nodePort, "Service", "proxy-public")).ports, [
      { name: "https", port: 443, targetPort: "https", protocol: "TCP", nodePort: 30080 },
    ]);
    const lb = publicOf(kubeOf(configOf(kubeYaml(hostPath))));
    assert.equal(spec(byKind(lb, "Service", "proxy-public")).type, "LoadBalancer");
    assert.deepEqual(
      spec(byKind(lb, "Service", "proxy-public")).ports.map((p: { port: number }) => p.port),
      [80],
    );
    const ingress = publicOf(
      kubeOf(
        configOf(
          kubeYaml(
            `  expose:\n    type: Ingress\n    host: hub.example.com\n    class: nginx\n${hostPath}  https:\n    mode: self-signed\n`,
          ),
        ),
      ),
    );
    assert.equal(spec(byKind(ingress, "Service", "proxy-public")).type, "ClusterIP");
    assert.deepEqual(spec(byKind(ingress, "Ingress")), {
      ingressClassName: "nginx",
      rules: [
        {
          host: "hub.example.com",
          http: {
            paths: [
              {
                path: "/",
                pathType: "Prefix",
                backend: { service: { name: "proxy-public", port: { name: "http" } } },
              },
            ],
          },
        },
      ],
      tls: [{ hosts: ["hub.example.com"], secretName: "proxy-tls" }],
    });
    const token = spec(byKind(nodePort, "Deployment")).template.spec.containers[0].env[0];
    assert.deepEqual(token, {
      name: "CONFIGPROXY_AUTH_TOKEN",
      valueFrom: { secretKeyRef: { name: "atrium-secrets", key: "proxy_auth_token" } },
    });
  });

  it("prepares home 0700, group folders 2770 setgid and envs, and refuses to follow a link", () => {
    const k = kubeOf(configOf(kubeYaml(hostPath)));
    const lines = prepareScript(k.input).split("\n");
    assert.deepEqual(
      lines.filter((l) => l.startsWith("own ")),
      [
        "own home 0:0 0755",
        "own shared 0:0 0755",
        "own envs/managed 0:0 0755",
        "own envs 999:999 0755",
        "own home/ada 10000:10000 0700",
        "own home/bob 10001:10001 0700",
        "own shared/ml 0:10002 2770",
      ],
    );
    assert.ok(lines.some((l) => l.includes('if [ -L "$1" ]') && l.includes("exit 1")));
  });

  it("names the storage-prepare job by a hash that changes with the users and groups on the volume only", () => {
    const jobName = (k: Kube) => byKind(renderStoragePrepare(k.input), "Job")?.metadata.name;
    const base = jobName(teamKube());
    assert.match(base ?? "", /^storage-prepare-[0-9a-f]{10}$/);
    assert.equal(jobName(teamKube((t) => t.replace("cpu_limit: 1\n", "cpu_limit: 2\n"))), base);
    assert.equal(jobName(teamKube((t) => t.replace("timeout: 1h", "timeout: 2h"))), base);
    assert.notEqual(
      jobName(teamKube((t) => t.replace("  - name: edsger\n", "  - name: edsger\n  - name: linus\n"))),
      base,
    );
    assert.notEqual(
      jobName(teamKube((t) => t.replace("  - name: ops\n", "  - name: research\n  - name: ops\n"))),
      base,
    );
    // membership is not on the volume: it lives in the group file and the pods' groups
    assert.equal(
      jobName(teamKube((t) => t.replace("groups: [analysts]\n", "groups: [analysts, modelers]\n"))),
      base,
    );
    const job = spec(byKind(renderStoragePrepare(teamKube().input), "Job"));
    assert.deepEqual(job.template.spec.containers[0].securityContext, {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"], add: ["CHOWN", "FOWNER", "FSETID"] },
    });
    assert.equal(PART_OF_LABEL in job.template.metadata.labels, false);
  });

  it("isolates user pods: in from proxy and hub, out to the hub API, DNS and public addresses only", () => {
    const policies = renderPolicies(
      kubeOf(configOf(kubeYaml("  storage:\n    nfs:\n      server: 203.0.113.7\n      path: /x\n"))).input,
    );
    assert.deepEqual(spec(byKind(policies, "NetworkPolicy", "default-deny")), {
      podSelector: {},
      policyTypes: ["Ingress", "Egress"],
    });
    const user = spec(byKind(policies, "NetworkPolicy", "singleuser"));
    assert.deepEqual(user.podSelector, {
      matchLabels: {
        "app.kubernetes.io/component": "singleuser-server",
        "app.kubernetes.io/instance": "lab",
      },
    });
    assert.deepEqual(
      user.ingress[0].from.map(
        (f: { podSelector: { matchLabels: Record<string, string> } }) =>
          f.podSelector.matchLabels["app.kubernetes.io/component"],
      ),
      ["proxy", "hub"],
    );
    assert.deepEqual(user.egress[0].ports, [{ protocol: "TCP", port: 8081 }]);
    const open = user.egress.find((r: { to?: Array<{ ipBlock?: unknown }> }) => r.to?.[0]?.ipBlock).to[0]
      .ipBlock;
    assert.equal(open.cidr, "0.0.0.0/0");
    for (const blocked of [
      "10.0.0.0/8",
      "172.16.0.0/12",
      "192.168.0.0/16",
      "169.254.0.0/16",
      "203.0.113.7/32",
    ]) {
      assert.ok(open.except.includes(blocked), blocked);
    }
    assert.deepEqual(
      user.egress[1].to[0].podSelector.matchLabels["app.kubernetes.io/component"],
      "dask-gateway",
    );
    assert.deepEqual(
      user.egress[1].ports.map((p: { port: number }) => p.port),
      [8000, 8786],
    );
    assert.equal(user.egress.length, 4);
  });

  it("lets the hub reach the package index's own port", () => {
    const ports = (index: string) => {
      const policies = renderPolicies(kubeOf(configOf(kubeYaml(`${hostPath}  index_url: ${index}\n`))).input);
      return spec(byKind(policies, "NetworkPolicy", "hub")).egress[3].ports.map(
        (p: { port: number }) => p.port,
      );
    };
    assert.deepEqual(ports("https://pypi.org/simple"), [443, 6443]);
    assert.deepEqual(ports("http://pypi-mirror:8080/simple"), [443, 6443, 8080]);
  });
});
