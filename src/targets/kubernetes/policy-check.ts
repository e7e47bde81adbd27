/**
 * What plan says, and plan and deploy refuse, about the cluster's NetworkPolicy
 * enforcement (the probe's result, cluster/policy-probe.ts): one plain line when the
 * cluster enforces them or the file accepts that it does not
 * (`target.network_policy.require_enforcement: false`); otherwise an AtriumError
 * naming that key, located in the file. A probe that could not decide counts as not
 * enforced: isolation is never assumed.
 */
import { locateProblems } from "../../config/load.js";
import type { KubernetesTargetConfig } from "../../config/schema.js";
import { AtriumError } from "../../errors.js";
import type { ClusterConnection } from "./cluster/connection.js";
import { type PolicyProbeResult, probeNetworkPolicy } from "./cluster/policy-probe.js";

export const REQUIRE_KEY = "target.network_policy.require_enforcement";
const REQUIRE_PATH = ["target", "network_policy", "require_enforcement"];
const EXPOSED = "user pods could reach each other's servers and the storage server";
const CONTROLLER = "install a policy controller such as Calico, Cilium or kube-router";

export interface PolicyCheckInput {
  result: Pick<PolicyProbeResult, "enforced" | "checked" | "detail" | "seconds">;
  requireEnforcement: boolean;
  /** The kubeconfig context, for messages. */
  context: string;
  configFile: string;
}

/** The plan's line, or the refusal. */
export function policyCheckLine(input: PolicyCheckInput): string {
  const { result, context } = input;
  const probed = `probed in ${result.seconds.toFixed(1)} s`;
  if (result.enforced) return `NetworkPolicies: enforced by the cluster (context ${context}; ${probed})`;
  const state = result.checked
    ? `NOT enforced by the cluster (context ${context}): ${EXPOSED}`
    : `enforcement by the cluster (context ${context}) ${result.detail}, so ${EXPOSED} as far as Atrium knows`;
  if (!input.requireEnforcement)
    return `NetworkPolicies: ${state}; accepted by ${REQUIRE_KEY}: false (${CONTROLLER} to isolate them; ${probed})`;
  const why = result.checked ? result.detail : result.detail.replace(/^could not be checked: /, "");
  throw new AtriumError(
    "prerequisite",
    `NetworkPolicies: ${state}`,
    `${CONTROLLER}, or set ${REQUIRE_KEY}: false in ${input.configFile} to accept it`,
    locateProblems(input.configFile, [
      {
        path: REQUIRE_PATH,
        message: result.checked
          ? `requires NetworkPolicy enforcement, and the probe found none: ${why}`
          : `requires NetworkPolicy enforcement, and the probe could not check it: ${why}`,
        hint: `${CONTROLLER}, or set it to false to accept the cluster as it is`,
      },
    ]),
  );
}

/** Probes the cluster (once per process) and gives the plan's line or refuses. */
export async function networkPolicyCheck(
  conn: ClusterConnection,
  block: KubernetesTargetConfig,
  configFile: string,
): Promise<string[]> {
  const result = await probeNetworkPolicy(conn, { image: block.images.hub });
  return [
    policyCheckLine({
      result,
      requireEnforcement: block.network_policy.require_enforcement,
      context: conn.context,
      configFile,
    }),
  ];
}
