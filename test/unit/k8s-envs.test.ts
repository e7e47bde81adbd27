/** The environment service on the kubernetes target: its config, pod, accounts and folder access. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { envsServiceConfig } from "../../src/contracts/envs-service.js";
import { owningGroup, setFolderAccess } from "../../src/services/envs/layout.js";
import { ENVS_ACCOUNT_FILES, renderEnvsAccountFiles } from "../../src/targets/kubernetes/accounts.js";
import {
  ENVS_SOURCES_HASH_ANNOTATION,
  renderEnvs,
  renderEnvsConfig,
} from "../../src/targets/kubernetes/envs.js";
import { renderKubeSpawner } from "../../src/targets/kubernetes/kube-spawner.js";
import { renderPolicies } from "../../src/targets/kubernetes/policies.js";
import { teamKube } from "./k8s-of.js";

// biome-ignore lint/suspicious/noExplicitAny: the tests read deep into plain JSON objects
type Json = Record<string, any>;

const podOf = (kube = teamKube()): Json => {
  const deployment = renderEnvs(kube.input).find((o) => o.object.kind === "Deployment")?.object;
  return ((deployment?.spec ?? {}) as Json).template;
};

describe("environment service on kubernetes", () => {
  it("renders a config its contract accepts, building into envs/managed by folder group", () => {
    const cfg = renderEnvsConfig(teamKube().input);
    assert.equal(envsServiceConfig.safeParse(cfg).success, true);
    assert.equal(cfg.envsDir, "/opt/atrium/envs/managed");
    assert.equal(cfg.kernelsDir, "/opt/atrium/envs/managed/.kernels");
    assert.equal(cfg.folderAccess, "group");
    assert.equal(cfg.cgroup, null);
    assert.equal(cfg.hubApiUrl, "http://hub:8081/hub/api");
  });

  it("runs as root with only the capabilities its work needs, Node from its lock, restarted by its sources", () => {
    const pod = podOf();
    const [main] = pod.spec.containers;
    assert.equal(main.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(main.securityContext.capabilities.drop, ["ALL"]);
    assert.deepEqual(main.securityContext.capabilities.add, [
      "CHOWN",
      "DAC_OVERRIDE",
      "FOWNER",
      "KILL",
      "SETGID",
      "SETUID",
    ]);
    const [init] = pod.spec.initContainers;
    assert.equal(init.securityContext.runAsUser, 999);
    assert.match(init.command[2], /build node node\.lock/);
    assert.equal(pod.metadata.annotations[ENVS_SOURCES_HASH_ANNOTATION], "fedcba9876543210");
    assert.equal(pod.spec.automountServiceAccountToken, false);
    const mounts = main.volumeMounts.map((m: Json) => `${m.mountPath}=${m.subPath ?? ""}`);
    assert.ok(mounts.includes("/etc/passwd=envs-passwd") && mounts.includes("/etc/group=envs-group"));
  });

  it("restarts when users or groups change", () => {
    const before = podOf().metadata.annotations;
    const after = podOf(teamKube((t) => t.replace("groups: [modelers]\n", "groups: [modelers, analysts]\n")));
    assert.notDeepEqual(before, after.metadata.annotations);
  });

  it("makes the build account a member of every group and every user's own group", () => {
    const kube = teamKube();
    const files = renderEnvsAccountFiles(kube.platform, kube.input.placement);
    const groups = files[ENVS_ACCOUNT_FILES.group].trimEnd().split("\n");
    for (const name of [
      ...kube.platform.users.map((u) => u.name),
      ...kube.platform.groups.map((g) => g.name),
    ]) {
      const line = groups.find((l) => l.startsWith(`${name}:`));
      assert.ok(line?.split(":")[3]?.split(",").includes("atrium-build"), `${name}: ${line}`);
    }
    assert.ok(!groups.some((l) => l.startsWith("root:") && l.includes("atrium-build")));
    assert.match(files[ENVS_ACCOUNT_FILES.passwd], /^atrium-build:x:998:998:/m);
  });

  it("puts each user's kernel folder on their JUPYTER_PATH through the spawner's settings", () => {
    const kube = teamKube();
    assert.equal(
      renderKubeSpawner(kube.platform, kube.input.placement).kernels_dir,
      "/opt/atrium/envs/managed/.kernels",
    );
  });

  it("is reached only by the proxy, and reaches only the hub, DNS and the package index", () => {
    const policy = renderPolicies(teamKube().input).find((o) => o.object.metadata.name === "envs")
      ?.object as Json;
    assert.deepEqual(
      policy.spec.ingress.map((r: Json) => r.from[0].podSelector.matchLabels["app.kubernetes.io/component"]),
      ["proxy"],
    );
    const ports = policy.spec.egress.flatMap((r: Json) => r.ports.map((p: Json) => p.port));
    assert.deepEqual([...new Set(ports)].sort(), [1053, 443, 53, 8081].sort());
  });
});

describe("folders kept by their group", () => {
  it("names one group: a group namespace's, or a user's own; never the build account", () => {
    setFolderAccess("group", "atrium-build");
    assert.equal(owningGroup({ users: ["atrium-build"], groups: ["modelers"] }), "modelers");
    assert.equal(owningGroup({ users: ["atrium-build", "ada"] }), "ada");
    assert.equal(owningGroup({ users: ["ada"] }), "ada");
    assert.throws(() => owningGroup({ users: ["ada", "bob"] }), /one reader group/);
    assert.throws(() => owningGroup({ users: ["atrium-build"] }), /one reader group/);
    setFolderAccess("acl", "atrium-build");
  });
});
