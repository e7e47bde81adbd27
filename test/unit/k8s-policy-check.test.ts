/**
 * What plan says and when plan and deploy refuse, given the NetworkPolicy probe's result.
 * The probe's results here are made up (enforced, not enforced, could not be checked):
 * only the message and refusal logic is under test; the probe itself runs on the real
 * cluster in test/cluster/policy-probe.test.ts.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { AtriumError } from "../../src/errors.js";
import { type PolicyCheckInput, policyCheckLine } from "../../src/targets/kubernetes/policy-check.js";
import { kubeYaml } from "./k8s-of.js";

const dir = mkdtempSync(join(tmpdir(), "atrium-policy-check-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const STORAGE = "  storage:\n    host_path:\n      path: /srv/atrium\n";
/** A config file; `policy` is the target's network_policy block, if any. */
function file(name: string, policy = ""): string {
  const path = join(dir, name);
  writeFileSync(path, kubeYaml(`  context: lab\n${STORAGE}${policy}`));
  return path;
}

const enforced = { enforced: true, checked: true, detail: "refused 1.2 s after the policy", seconds: 4.9 };
const open = { enforced: false, checked: true, detail: "still reached 20 s after", seconds: 26.1 };
const unknown = {
  enforced: false,
  checked: false,
  detail: "could not be checked: pod probe-server Pending (ErrImagePull)",
  seconds: 2.3,
};

function refusal(input: PolicyCheckInput): AtriumError {
  try {
    policyCheckLine(input);
  } catch (err) {
    assert.ok(err instanceof AtriumError, String(err));
    return err;
  }
  assert.fail("expected a refusal");
}

describe("the NetworkPolicy check's line and refusal", () => {
  it("says enforced in one line, with the probe's time", () => {
    const configFile = file("enforced.yaml");
    assert.equal(
      policyCheckLine({ result: enforced, requireEnforcement: true, context: "lab", configFile }),
      "NetworkPolicies: enforced by the cluster (context lab; probed in 4.9 s)",
    );
  });

  it("refuses a cluster that does not enforce them, naming the key where the file sets it", () => {
    const configFile = file("required.yaml", "  network_policy:\n    require_enforcement: true\n");
    const err = refusal({ result: open, requireEnforcement: true, context: "lab", configFile });
    assert.equal(err.code, "prerequisite");
    assert.equal(
      err.message,
      "NetworkPolicies: NOT enforced by the cluster (context lab): user pods could reach each other's servers and the storage server",
    );
    assert.equal(
      err.hint,
      `install a policy controller such as Calico, Cilium or kube-router, or set target.network_policy.require_enforcement: false in ${configFile} to accept it`,
    );
    assert.deepEqual(err.problems, [
      {
        file: configFile,
        line: 10,
        col: 26,
        path: ["target", "network_policy", "require_enforcement"],
        message: "requires NetworkPolicy enforcement, and the probe found none: still reached 20 s after",
        hint: "install a policy controller such as Calico, Cilium or kube-router, or set it to false to accept the cluster as it is",
      },
    ]);
  });

  it("refuses by default, pointing at the target block the key belongs in", () => {
    const configFile = file("default.yaml");
    const err = refusal({ result: open, requireEnforcement: true, context: "lab", configFile });
    assert.deepEqual(
      err.problems.map((p) => [p.line, p.col, p.path.join(".")]),
      [[4, 3, "target.network_policy.require_enforcement"]],
    );
  });

  it("refuses when the probe could not decide, and says why", () => {
    const configFile = file("unknown.yaml");
    const err = refusal({ result: unknown, requireEnforcement: true, context: "lab", configFile });
    assert.equal(
      err.message,
      "NetworkPolicies: enforcement by the cluster (context lab) could not be checked: pod probe-server Pending (ErrImagePull), so user pods could reach each other's servers and the storage server as far as Atrium knows",
    );
    assert.equal(
      err.problems[0]?.message,
      "requires NetworkPolicy enforcement, and the probe could not check it: pod probe-server Pending (ErrImagePull)",
    );
  });

  it("says plainly what the file accepts with require_enforcement: false", () => {
    const configFile = file("accepted.yaml", "  network_policy:\n    require_enforcement: false\n");
    assert.equal(
      policyCheckLine({ result: open, requireEnforcement: false, context: "lab", configFile }),
      "NetworkPolicies: NOT enforced by the cluster (context lab): user pods could reach each other's servers and the storage server; accepted by target.network_policy.require_enforcement: false (install a policy controller such as Calico, Cilium or kube-router to isolate them; probed in 26.1 s)",
    );
    assert.match(
      policyCheckLine({ result: unknown, requireEnforcement: false, context: "lab", configFile }),
      /^NetworkPolicies: enforcement by the cluster \(context lab\) could not be checked: .*; accepted by target\.network_policy\.require_enforcement: false/,
    );
  });
});
