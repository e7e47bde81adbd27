/**
 * Single sign-on on the kubernetes target: the client secret reaches the hub by a
 * secretKeyRef and is never rendered; its digest (from the environment, else the
 * state) restarts the hub when it changes; the hub may reach the issuer's port; the
 * hub settings say no Linux accounts are made at login.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hubSettings } from "../../src/contracts/hub-settings.js";
import { oidcClientDigest } from "../../src/targets/kubernetes/cluster/oidc-secret.js";
import { OIDC_CLIENT_DIGEST_ANNOTATION } from "../../src/targets/kubernetes/hub.js";
import type { KubeObject } from "../../src/targets/kubernetes/objects.js";
import { hubOutPorts } from "../../src/targets/kubernetes/policies.js";
import { kubernetesArtifacts, renderKubernetes } from "../../src/targets/kubernetes/render.js";
import { secretRefs } from "../../src/targets/kubernetes/secrets.js";
import { clientSecretDigest } from "../../src/targets/oidc-client-secret.js";
import type { DeployState } from "../../src/targets/target.js";
import { configOf } from "./config-of.js";
import { kubeOf, kubeYaml, TEST_SOURCES_HASHES } from "./k8s-of.js";

const SECRET = "k8s-oidc-unit-3b1f0c2d9e";
const oidc = (env: string) =>
  configOf(
    kubeYaml(
      "  storage:\n    host_path:\n      path: /srv/lab\n",
      `auth:\n  type: oidc\n  issuer: http://id.example.org:8088/realms/lab\n  client_id: lab\n  client_secret_env: ${env}\n  admin_groups: [lab-admins]\n`,
    ),
  );

function hubOf(digest: string | null, env = "K8S_OIDC_UNIT_UNSET") {
  const k = kubeOf(oidc(env));
  const r = renderKubernetes(k.platform, k.block, k.identities, TEST_SOURCES_HASHES, digest);
  const hub = r.objects.find(
    (o) => o.object.kind === "Deployment" && o.object.metadata.name === "hub",
  )?.object;
  assert.ok(hub);
  return { k, r, hub };
}

interface PodTemplate {
  metadata: { annotations: Record<string, string> };
  spec: { containers: { env: { name: string }[] }[] };
}
const template = (hub: KubeObject) => (hub.spec as { template: PodTemplate }).template;

describe("single sign-on on the kubernetes target", () => {
  it("gives the hub the secret as the file's variable from the Secret oidc-client, and renders no value", () => {
    process.env.K8S_OIDC_UNIT_RENDER = SECRET;
    const given = kubeOf(oidc("K8S_OIDC_UNIT_RENDER"));
    const digest = oidcClientDigest(given.platform, undefined);
    const rendered = renderKubernetes(
      given.platform,
      given.block,
      given.identities,
      TEST_SOURCES_HASHES,
      digest,
    );
    const text = [...kubernetesArtifacts(rendered).values()].join("\n");
    assert.match(text, /K8S_OIDC_UNIT_RENDER/);
    assert.doesNotMatch(text, new RegExp(SECRET));
    const { r, hub } = hubOf("0123456789abcdef");
    const env = template(hub).spec.containers[0]?.env ?? [];
    assert.deepEqual(
      env.find((e) => e.name === "K8S_OIDC_UNIT_UNSET"),
      {
        name: "K8S_OIDC_UNIT_UNSET",
        valueFrom: { secretKeyRef: { name: "oidc-client", key: "client_secret" } },
      },
    );
    assert.equal(template(hub).metadata.annotations[OIDC_CLIENT_DIGEST_ANNOTATION], "0123456789abcdef");
    const refs = secretRefs(r.input).filter((s) => s.secret === "oidc-client");
    assert.deepEqual(
      refs.map((s) => [s.key, s.kind]),
      [["client_secret", "from-environment"]],
    );
  });

  it("restarts the hub only when the digest changes, and carries none before it is known", () => {
    const a = template(hubOf("aaaaaaaaaaaaaaaa").hub);
    const b = template(hubOf("bbbbbbbbbbbbbbbb").hub);
    assert.notDeepEqual(a.metadata.annotations, b.metadata.annotations);
    assert.deepEqual(a.spec, b.spec);
    assert.equal(template(hubOf(null).hub).metadata.annotations[OIDC_CLIENT_DIGEST_ANNOTATION], undefined);
  });

  it("takes the digest from the environment, else from the state, and none without OIDC", () => {
    const env = "K8S_OIDC_UNIT_SECRET";
    const k = kubeOf(oidc(env));
    const state = {
      components: { "secret/oidc-client": { data: { digest: "recorded0000abcd" } } },
    } as unknown as DeployState;
    assert.equal(oidcClientDigest(k.platform, state), "recorded0000abcd");
    assert.equal(oidcClientDigest(k.platform, undefined), null);
    const other = kubeOf(oidc("K8S_OIDC_UNIT_GIVEN"));
    process.env.K8S_OIDC_UNIT_GIVEN = SECRET;
    assert.equal(oidcClientDigest(other.platform, state), clientSecretDigest(SECRET));
    assert.equal(process.env.K8S_OIDC_UNIT_GIVEN, undefined, "the variable is taken out of the environment");
    const password = kubeOf(configOf(kubeYaml("  storage:\n    host_path:\n      path: /srv/lab\n")));
    assert.equal(oidcClientDigest(password.platform, state), null);
  });

  it("lets the hub reach the issuer's port, and says no Linux accounts are made at login", () => {
    const { r } = hubOf(null);
    assert.deepEqual(hubOutPorts(r.input), [443, 6443, 8088]);
    const settingsMap = r.objects.find(
      (o) => o.object.kind === "ConfigMap" && o.object.metadata.name === "hub-settings",
    );
    const data = (settingsMap?.object.data ?? {}) as Record<string, string>;
    const settings = hubSettings.parse(
      JSON.parse(Object.values(data).find((v) => v.startsWith("{")) ?? "{}"),
    );
    assert.equal(settings.auth.type, "oidc");
    assert.equal(settings.auth.type === "oidc" && settings.auth.linux_accounts, false);
  });
});
