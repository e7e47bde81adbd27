/**
 * Dask on the kubernetes target: the gateway's settings follow the contract with the
 * pods section (each user's uid, gid, groups and mounts; each worker profile's node
 * pool), its Role is only as wide as the backend's work, users' servers find it with no
 * arguments, the policies let only the gateway and a cluster's own pods reach schedulers
 * and workers, and nothing of it is rendered when Dask is off.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { daskGatewaySettings } from "../../src/contracts/dask-gateway.js";
import {
  GATEWAY_SETTINGS_KEY,
  renderDaskGatewaySettings,
} from "../../src/targets/kubernetes/dask-gateway.js";
import type { KubeObject } from "../../src/targets/kubernetes/objects.js";
import { renderKubernetes } from "../../src/targets/kubernetes/render.js";
import { configOf } from "./config-of.js";
import { type Kube, kubeOf, kubeYaml, TEST_SOURCES_HASHES, teamKube } from "./k8s-of.js";

const render = (k: Kube) => renderKubernetes(k.platform, k.block, k.identities, TEST_SOURCES_HASHES);
const find = (k: Kube, kind: string, name: string): KubeObject | undefined =>
  render(k).objects.find((o) => o.object.kind === kind && o.object.metadata.name === name)?.object;
type Rule = { from?: unknown[]; to?: unknown[]; ports?: Array<{ port: number }> };
const componentsOf = (peers: unknown[] | undefined) =>
  (peers ?? []).map(
    (p) =>
      (p as { podSelector?: { matchLabels?: Record<string, string> } }).podSelector?.matchLabels?.[
        "app.kubernetes.io/component"
      ],
  );

describe("Dask on kubernetes", () => {
  it("gives the gateway settings with each user's identity and mounts, and each worker profile's pool", () => {
    const k = teamKube();
    const settings = renderDaskGatewaySettings(k.platform, k.input.placement);
    daskGatewaySettings.parse(settings);
    assert.equal(settings.clusters_dir, undefined);
    const pods = settings.pods;
    assert.ok(pods);
    const grace = pods.users.find((u) => u.name === "grace");
    const placed = k.input.placement.users.get("grace");
    assert.equal(grace?.uid, placed?.uid);
    assert.deepEqual(grace?.supplemental_gids, placed?.supplementalGids);
    assert.deepEqual(
      grace?.volume_mounts.map((m) => m.mount_path),
      ["/home/grace", "/shared/modelers"],
    );
    const large = pods.worker_pools.find((p) => p.name === "large");
    assert.equal(large?.node_selector["atrium.dev/pool"], "highmem");
    assert.deepEqual(large?.tolerations, [
      { key: "atrium.dev/pool", operator: "Equal", value: "highmem", effect: "NoSchedule" },
    ]);
    assert.deepEqual(pods.worker_pools.find((p) => p.name === "small")?.node_selector, {});
    const config = find(k, "ConfigMap", "dask-gateway");
    const data = (config?.data ?? {}) as Record<string, string>;
    assert.deepEqual(JSON.parse(data[GATEWAY_SETTINGS_KEY] ?? ""), settings);
  });

  it("lets the gateway make and delete pods and TLS Secrets and read pods' logs, never read a Secret", () => {
    const role = find(teamKube(), "Role", "dask-gateway");
    assert.deepEqual(role?.rules, [
      { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch", "create", "delete"] },
      { apiGroups: [""], resources: ["pods/log"], verbs: ["get"] },
      { apiGroups: [""], resources: ["secrets"], verbs: ["create", "patch", "delete"] },
      {
        apiGroups: ["networking.k8s.io"],
        resources: ["networkpolicies"],
        verbs: ["create", "patch", "delete"],
      },
    ]);
  });

  it("tells users' servers where the gateway is, and lets only them and schedulers reach it", () => {
    const k = teamKube();
    const settings = find(k, "ConfigMap", "hub-settings")?.data as Record<string, string>;
    const hub = JSON.parse(Object.values(settings).find((v) => v.startsWith("{")) ?? "{}");
    assert.deepEqual(hub.kube_spawner.environment, {
      DASK_GATEWAY__ADDRESS: "http://dask-gateway:8000/services/dask-gateway",
      DASK_GATEWAY__AUTH__TYPE: "jupyterhub",
      DASK_GATEWAY__PROXY_ADDRESS: "tls://dask-gateway:8786",
    });
    const policy = (name: string) =>
      find(k, "NetworkPolicy", name)?.spec as { ingress: Rule[]; egress: Rule[] };
    const gateway = policy("dask-gateway");
    assert.deepEqual(
      gateway.ingress.map((r) => componentsOf(r.from)),
      [["singleuser-server"], ["dask-scheduler"]],
    );
    // from Dask pods, only a cluster's own reach it: the gateway's per-cluster policy says so, not these
    assert.deepEqual(policy("dask-worker").ingress, []);
    const scheduler = policy("dask-scheduler");
    assert.deepEqual(
      scheduler.ingress.map((r) => [componentsOf(r.from), r.ports?.map((p) => p.port)]),
      [[["dask-gateway"], [8786, 8788]]],
    );
    const user = policy("singleuser");
    const toGateway = user.egress.find((r) => componentsOf(r.to).includes("dask-gateway"));
    assert.deepEqual(
      toGateway?.ports?.map((p) => p.port),
      [8000, 8786],
    );
    // users' servers never reach schedulers or workers directly
    assert.equal(
      user.egress.some((r) => componentsOf(r.to).some((c) => c === "dask-scheduler" || c === "dask-worker")),
      false,
    );
  });

  it("renders nothing of Dask when it is off", () => {
    const k = kubeOf(
      configOf(kubeYaml("  storage:\n    host_path:\n      path: /srv/lab\n", "dask:\n  enabled: false\n")),
    );
    const names = render(k).objects.map((o) => `${o.object.kind}/${o.object.metadata.name}`);
    assert.deepEqual(
      names.filter((n) => n.includes("dask")),
      [],
    );
    const settings = find(k, "ConfigMap", "hub-settings")?.data as Record<string, string>;
    const hub = JSON.parse(Object.values(settings).find((v) => v.startsWith("{")) ?? "{}");
    assert.deepEqual(hub.kube_spawner.environment, {});
  });
});
