/**
 * The hub's ServiceAccount and the Role KubeSpawner needs in the namespace, bound to it.
 * Exactly as wide as KubeSpawner's work here: make, watch and delete user pods, and read
 * their events for the spawn progress page. No persistentvolumeclaims (the one shared
 * volume is Atrium's and KubeSpawner is told never to make or delete a claim), no secrets
 * or services (no internal TLS), nothing outside the namespace.
 */
import { metaOf, type RenderInput } from "./meta.js";
import type { RenderedObject } from "./objects.js";

export const HUB_ROLE_RULES = [
  { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch", "create", "delete"] },
  { apiGroups: [""], resources: ["events"], verbs: ["get", "list", "watch"] },
];

export function renderRbac(input: RenderInput): RenderedObject[] {
  const { names, namespace } = input.placement;
  return [
    {
      wave: "rbac",
      object: {
        apiVersion: "v1",
        kind: "ServiceAccount",
        metadata: metaOf(input, names.hubServiceAccount, "hub"),
        automountServiceAccountToken: false,
      },
    },
    {
      wave: "rbac",
      object: {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "Role",
        metadata: metaOf(input, names.hubRole, "hub"),
        rules: HUB_ROLE_RULES,
      },
    },
    {
      wave: "rbac",
      object: {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: metaOf(input, names.hubRole, "hub"),
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: names.hubRole },
        subjects: [{ kind: "ServiceAccount", name: names.hubServiceAccount, namespace }],
      },
    },
  ];
}
