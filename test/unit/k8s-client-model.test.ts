import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { dumpYaml } from "@kubernetes/client-node";
import { asClientModel } from "../../src/targets/kubernetes/cluster/client-model.js";

describe("objects as the Kubernetes client sends them", () => {
  it("keeps a NetworkPolicy rule's from, which the client's model names otherwise", () => {
    const policy = {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "p", namespace: "n" },
      spec: {
        podSelector: {},
        ingress: [{ from: [{ podSelector: { matchLabels: { a: "b" } } }], ports: [{ port: 1 }] }],
      },
    };
    // the client's own serializer: a plain object loses the rule's peers, the model keeps them
    assert.doesNotMatch(dumpYaml(policy), /from:/);
    assert.match(dumpYaml(asClientModel(policy)), /from:\n\s+- podSelector:\n\s+matchLabels:\n\s+a: b/);
  });
});
