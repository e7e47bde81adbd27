/** The online plan's field diff (live object against a dry run's result) and what each change restarts or affects. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfig } from "../../src/config/load.js";
import { repoPath } from "../../src/paths.js";
import { effectsOf, type ObjectChange } from "../../src/targets/kubernetes/change-effects.js";
import { fieldDiff, formatFieldChange } from "../../src/targets/kubernetes/field-diff.js";
import { targetFor } from "../../src/targets/registry.js";

const lines = (live: unknown, result: unknown) => fieldDiff(live, result).map(formatFieldChange);

const deployment = (image: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: {
    name: "hub",
    namespace: "team",
    uid: "u-1",
    resourceVersion: "100",
    generation: 3,
    creationTimestamp: "2026-12-01T00:00:00Z",
    managedFields: [{ manager: "atrium", operation: "Apply" }],
    annotations: { "deployment.kubernetes.io/revision": "3" },
  },
  spec: {
    replicas: 1,
    template: {
      spec: {
        containers: [
          { name: "hub", image, env: [{ name: "A", value: "1" }] },
          { name: "sidecar", image: "busybox:1" },
        ],
        volumes: [{ name: "tmp", emptyDir: {} }],
      },
    },
    ...extra,
  },
  status: { readyReplicas: 1 },
});

describe("field diff of a live object against its dry run", () => {
  it("names list items by name and leaves out what the server owns", () => {
    const live = deployment("a");
    const result = deployment("b");
    result.metadata.resourceVersion = "101";
    result.metadata.generation = 4;
    result.metadata.managedFields = [
      { manager: "atrium", operation: "Apply" },
      { manager: "x", operation: "Update" },
    ];
    result.metadata.annotations = { "deployment.kubernetes.io/revision": "4" };
    result.status = { readyReplicas: 0 };
    assert.deepEqual(lines(live, result), ['spec.template.spec.containers[hub].image: "a" -> "b"']);
  });

  it("walks nested objects and says what was added and removed", () => {
    const live = deployment("a", { strategy: { type: "Recreate" } });
    const result = deployment("a", { paused: true });
    const container = result.spec.template.spec.containers[0] as Record<string, unknown>;
    container.env = [
      { name: "A", value: "2" },
      { name: "B", value: "x" },
    ];
    result.spec.template.spec.containers.pop();
    assert.deepEqual(lines(live, result), [
      'spec.template.spec.containers[hub].env[A].value: "1" -> "2"',
      'spec.template.spec.containers[hub].env[B]: added {"name":"B","value":"x"}',
      'spec.template.spec.containers[sidecar]: removed (was {"name":"sidecar","image":"busybox:1"})',
      'spec.strategy: removed (was {"type":"Recreate"})',
      "spec.paused: added true",
    ]);
  });

  it("keys items by another distinct field when names repeat, by position otherwise", () => {
    const mounts = (path: string) => [
      { name: "accounts", mountPath: "/etc/passwd", subPath: "passwd" },
      { name: "accounts", mountPath: "/etc/group", subPath: path },
    ];
    assert.deepEqual(
      lines({ spec: { volumeMounts: mounts("group") } }, { spec: { volumeMounts: mounts("g") } }),
      ['spec.volumeMounts[mountPath=/etc/group].subPath: "group" -> "g"'],
    );
    const rules = (port: number) => [
      { ports: [{ protocol: "TCP", port: 80 }] },
      { ports: [{ protocol: "TCP", port }] },
    ];
    assert.deepEqual(lines({ spec: { ingress: rules(8081) } }, { spec: { ingress: rules(8082) } }), [
      'spec.ingress[1].ports[port=8082]: added {"protocol":"TCP","port":8082}',
      'spec.ingress[1].ports[port=8081]: removed (was {"protocol":"TCP","port":8081})',
    ]);
    assert.deepEqual(lines({ spec: { args: ["a", "b"] } }, { spec: { args: ["a"] } }), [
      'spec.args: ["a","b"] -> ["a"]',
    ]);
  });

  it("compares JSON held in a string inside it, and long strings by their first differing line", () => {
    const settings = (mem: number) =>
      JSON.stringify({ profiles: [{ name: "small", mem_limit: mem }], users: [{ name: "ada" }] });
    assert.deepEqual(
      lines(
        {
          kind: "ConfigMap",
          data: { "atrium_hub.json": settings(1), script: `set -eu\n${"x".repeat(80)}\nold` },
        },
        {
          kind: "ConfigMap",
          data: { "atrium_hub.json": settings(2), script: `set -eu\n${"x".repeat(80)}\nnew` },
        },
      ),
      ['data["atrium_hub.json"].profiles[small].mem_limit: 1 -> 2', 'data.script: line 3: "old" -> "new"'],
    );
  });

  it("never shows a Secret's data", () => {
    const secret = (data: Record<string, string>) => ({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "s" },
      data,
    });
    const out = lines(
      secret({ token: "czNjcjN0", gone: "b2xk" }),
      secret({ token: "bjN3LXMzY3IzdA==", added: "YWRkZWQ=" }),
    );
    assert.deepEqual(out, [
      "data.token: (secret) -> (secret)",
      "data.gone: removed (was (secret))",
      "data.added: added (secret)",
    ]);
    assert.doesNotMatch(out.join("\n"), /czNjcjN0|b2xk|bjN3|YWRk|s3cr3t/);
    assert.deepEqual(lines(secret({}), { ...secret({}), data: undefined, stringData: { a: "plain" } }), [
      "data: removed (was (secret))",
      "stringData: added (secret)",
    ]);
    // a ConfigMap's data is shown
    assert.deepEqual(
      lines({ kind: "ConfigMap", data: { a: "1" } }, { kind: "ConfigMap", data: { a: "2" } }),
      ['data.a: "1" -> "2"'],
    );
  });

  it("quotes keys that are not plain words", () => {
    assert.deepEqual(
      lines(
        { spec: { template: { metadata: { annotations: { "atrium.dev/settings-hash": "aa" } } } } },
        { spec: { template: { metadata: { annotations: { "atrium.dev/settings-hash": "bb" } } } } },
      ),
      ['spec.template.metadata.annotations["atrium.dev/settings-hash"]: "aa" -> "bb"'],
    );
  });
});

describe("what an object change restarts or affects", () => {
  const file = repoPath("examples", "team-kubernetes.yaml");
  const rendered = [...targetFor(loadConfig(file), file).render()]
    .filter(([name]) => name.includes("/"))
    .map(([, text]) => JSON.parse(text) as Record<string, unknown>);
  const find = (kind: string, name: string) => {
    const o = rendered.find((x) => x.kind === kind && (x.metadata as { name: string }).name === name);
    if (!o) throw new Error(`no ${kind} ${name} rendered`);
    return o;
  };
  const update = (o: Record<string, unknown>, live: unknown, result: unknown): ObjectChange => ({
    kind: "update",
    object: o,
    fields: fieldDiff(live, result),
  });

  it("a profile change restarts the hub through its settings hash and only affects new servers", () => {
    const settings = find("ConfigMap", "hub-settings");
    const hub = find("Deployment", "hub");
    const text = (settings.data as Record<string, string>)["atrium_hub.json"] as string;
    const changed = text.replace(/"mem_limit": 2147483648/, '"mem_limit": 3221225472');
    assert.notEqual(changed, text);
    const cm = update(
      settings,
      { data: { "atrium_hub.json": text } },
      { data: { "atrium_hub.json": changed } },
    );
    const annotations = (h: string) => ({
      spec: { template: { metadata: { annotations: { "atrium.dev/settings-hash": h } } } },
    });
    const dep = update(hub, annotations("aa"), annotations("bb"));
    const all = [cm, dep];
    assert.deepEqual(effectsOf(cm, all, rendered), [
      "restarts the hub: Deployment hub's pod template carries this ConfigMap's hash",
      "profile changes only affect new servers: running ones keep the resources and placement they started with",
    ]);
    assert.deepEqual(effectsOf(dep, all, rendered), [
      "restarts the hub: its pod is replaced (logins and spawns wait until it is ready; running user servers keep running)",
    ]);
    // the same settings change without the Deployment changing: read, not restarted
    assert.deepEqual(effectsOf(cm, [cm], rendered)[0], "read by the hub, which this does not restart");
  });

  it("the proxy's pod template restarts the proxy; replicas alone restart nothing", () => {
    const proxy = find("Deployment", "proxy");
    const image = (i: string) => ({
      spec: { template: { spec: { containers: [{ name: "chp", image: i }] } } },
    });
    assert.deepEqual(effectsOf(update(proxy, image("a"), image("b")), [], rendered), [
      "restarts the proxy: connections to the platform drop while its pod is replaced",
    ]);
    assert.deepEqual(
      effectsOf(update(proxy, { spec: { replicas: 1 } }, { spec: { replicas: 2 } }), [], rendered),
      ["does not restart the proxy (its pods stay)"],
    );
  });

  it("user servers: their NetworkPolicy and the default deny apply at once, the shared volume and accounts are theirs", () => {
    const egress = (cidr: string) => ({ spec: { egress: [{ to: [{ ipBlock: { cidr } }] }] } });
    const singleuser = find("NetworkPolicy", "singleuser");
    const affects =
      "affects running user servers: their traffic follows these rules at once, without a restart";
    assert.deepEqual(effectsOf(update(singleuser, egress("0.0.0.0/0"), egress("1.0.0.0/8")), [], rendered), [
      affects,
    ]);
    assert.deepEqual(
      effectsOf({ kind: "create", object: find("NetworkPolicy", "default-deny"), fields: [] }, [], rendered),
      ["applies to user servers' traffic at once, running ones included"],
    );
    assert.deepEqual(
      effectsOf(update(find("NetworkPolicy", "hub"), egress("a"), egress("b")), [], rendered),
      [],
    );
    const size = (s: string) => ({ spec: { resources: { requests: { storage: s } } } });
    assert.deepEqual(
      effectsOf(update(find("PersistentVolumeClaim", "shared"), size("1Gi"), size("2Gi")), [], rendered),
      ["affects running user servers: their homes, group folders and environments are on this volume"],
    );
    const group = (g: string) => ({ data: { group: g } });
    assert.deepEqual(effectsOf(update(find("ConfigMap", "accounts"), group("a"), group("b")), [], rendered), [
      // alone; in a real change the service's template carries the accounts' hash and restarts it
      "read by Deployment envs, which this does not restart",
      "running user servers keep the files they started with (mounted by subPath); servers started after this get the new ones",
    ]);
  });

  it("an update the cluster already has changes nothing", () => {
    assert.deepEqual(effectsOf(update(find("Deployment", "hub"), {}, {}), [], rendered), [
      "the cluster already has it: applying changes nothing",
    ]);
  });
});
