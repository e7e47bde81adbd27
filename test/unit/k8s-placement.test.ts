/** Where the kubernetes target puts the platform: names, labels, ids, folders, per-profile placement. */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { hostPathProblem } from "../../src/targets/kubernetes/nodes.js";
import {
  applySetId,
  bytesQuantity,
  cpuQuantity,
  instanceLabels,
  labelsOf,
  PART_OF_LABEL,
  profileOf,
  userOf,
} from "../../src/targets/kubernetes/placement.js";
import { configOf } from "./config-of.js";
import { kubeOf, kubeYaml, teamKube } from "./k8s-of.js";

const hostPath = "  storage:\n    host_path:\n      path: /srv/lab\n";

describe("kubernetes placement", () => {
  it("runs in the project's namespace unless the file names one", () => {
    assert.equal(kubeOf(configOf(kubeYaml(hostPath))).input.placement.namespace, "lab");
    assert.equal(
      kubeOf(configOf(kubeYaml(`  namespace: jhub\n${hostPath}`))).input.placement.namespace,
      "jhub",
    );
  });

  it("computes the ApplySet id as the specification does, from the state Secret", () => {
    const digest = createHash("sha256").update("atrium-state.lab.Secret.").digest("base64url");
    assert.equal(applySetId("atrium-state", "lab", "Secret", ""), `applyset-${digest}-v1`);
    assert.equal(kubeOf(configOf(kubeYaml(hostPath))).input.placement.applySet, `applyset-${digest}-v1`);
    assert.ok(`applyset-${digest}-v1`.length <= 63, "a label value has at most 63 characters");
  });

  it("labels Atrium's objects with the inventory, and user pods' labels never carry it", () => {
    const { placement } = kubeOf(configOf(kubeYaml(hostPath))).input;
    assert.deepEqual(labelsOf(placement, "lab", "hub"), {
      "app.kubernetes.io/component": "hub",
      "app.kubernetes.io/instance": "lab",
      "app.kubernetes.io/managed-by": "atrium",
      "app.kubernetes.io/name": "atrium",
      [PART_OF_LABEL]: placement.applySet,
    });
    assert.equal(PART_OF_LABEL in instanceLabels("lab", "singleuser-server"), false);
  });

  it("gives each user their uid, an own group with that gid, and their groups' gids", () => {
    const { placement } = kubeOf(configOf(kubeYaml(hostPath))).input;
    assert.deepEqual(userOf(placement, "bob"), {
      uid: 10001,
      gid: 10001,
      supplementalGids: [10002, 10003],
      home: "home/bob",
    });
    assert.deepEqual(placement.groups.get("ml"), { gid: 10002, folder: "shared/ml" });
    assert.deepEqual(placement.groups.get("viz"), { gid: 10003, folder: null });
  });

  it("takes uids and gids from the file where it gives them", () => {
    const yaml = kubeYaml(hostPath)
      .replace("  - name: ada\n", "  - name: ada\n    uid: 2001\n")
      .replace("  - name: ml\n", "  - name: ml\n    gid: 3001\n");
    const { placement } = kubeOf(configOf(yaml)).input;
    assert.deepEqual(userOf(placement, "ada"), {
      uid: 2001,
      gid: 2001,
      supplementalGids: [3001],
      home: "home/ada",
    });
    assert.equal(userOf(placement, "bob").uid, 10000);
  });

  it("places the large profile on the highmem pool: its labels as selector, its taint tolerated", () => {
    const { placement } = teamKube().input;
    assert.deepEqual(profileOf(placement, "large"), {
      requests: { memory: "4Gi" },
      limits: { cpu: "2", memory: "16Gi" },
      nodeSelector: { "atrium.dev/pool": "highmem", "hub.jupyter.org/node-purpose": "user" },
      tolerations: [{ key: "atrium.dev/pool", operator: "Equal", value: "highmem", effect: "NoSchedule" }],
    });
    assert.deepEqual(profileOf(placement, "small"), {
      requests: { cpu: "250m", memory: "512Mi" },
      limits: { cpu: "1", memory: "2Gi" },
      nodeSelector: {},
      tolerations: [],
    });
  });

  it("gives GPUs as nvidia.com/gpu limits, and a taint without value an Exists toleration", () => {
    const pools =
      "  node_pools:\n    gpu:\n      labels:\n        gpu: t4\n      taints:\n        - key: nvidia.com/gpu\n          effect: NoSchedule\n";
    const profiles =
      "profiles:\n  - name: cpu\n    display_name: CPU\n    default: true\n  - name: gpu\n    display_name: GPU\n    gpus: 2\n    node_pool: gpu\n";
    const { placement } = kubeOf(configOf(kubeYaml(`${hostPath}${pools}`, profiles))).input;
    assert.deepEqual(profileOf(placement, "gpu"), {
      requests: {},
      limits: { "nvidia.com/gpu": "2" },
      nodeSelector: { gpu: "t4" },
      tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
    });
    assert.deepEqual(profileOf(placement, "cpu").limits, {});
  });

  it("writes sizes and cores as Kubernetes quantities", () => {
    assert.equal(bytesQuantity(2 * 2 ** 30), "2Gi");
    assert.equal(bytesQuantity(512 * 2 ** 20), "512Mi");
    assert.equal(bytesQuantity(4e9), "4G");
    assert.equal(bytesQuantity(1500), "1500");
    assert.equal(cpuQuantity(2), "2");
    assert.equal(cpuQuantity(0.25), "250m");
    const sized = kubeOf(configOf(kubeYaml("  storage:\n    storage_class: efs\n    size: 100Gi\n")));
    assert.deepEqual(sized.input.placement.sizes, { shared: "100Gi", hubDatabase: "1Gi" });
  });

  it("refuses host_path storage on a cluster of more than one node, and only then", () => {
    const { block } = kubeOf(configOf(kubeYaml(hostPath)));
    assert.equal(hostPathProblem(block, 1), undefined);
    assert.deepEqual(hostPathProblem(block, 3), {
      path: ["target", "storage", "host_path"],
      atKey: true,
      message: "host_path storage is a folder on one node, and this cluster has 3 nodes",
      hint: "use storage_class (a ReadWriteMany class) or nfs, or deploy to a single-node cluster",
    });
    const nfs = kubeOf(configOf(kubeYaml("  storage:\n    nfs:\n      server: nfs\n      path: /x\n")));
    assert.equal(hostPathProblem(nfs.block, 3), undefined);
  });
});
