/**
 * The kubernetes target's block of atrium.yaml: which cluster and namespace, how
 * people reach the platform, where its files live, which node pools profiles may
 * land on, and the images it runs. Part of the schema (schema.ts takes it into the
 * target union); the rules that relate it to profiles live in rules-kubernetes.ts.
 */
import { z } from "zod";
import {
  DEFAULT_HUB_IMAGE,
  DEFAULT_INDEX_URL,
  DEFAULT_PROXY_IMAGE,
  DEFAULT_USER_IMAGE,
} from "./kubernetes-images.js";
import { absPath, DNS_LABEL_RE, https, size, slug } from "./schema-parts.js";

const name = z.string().min(1);

const NODE_PORT_RANGE = { min: 30000, max: 32767 } as const;

/** A DNS host name such as jupyter.example.com (an ingress host). */
const HOST_RE = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

// Kubernetes' own syntax for label keys (an optional DNS prefix and a name) and values.
const LABEL_KEY_RE =
  /^([a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\/)?[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE_RE = /^(([A-Za-z0-9][A-Za-z0-9._-]{0,61})?[A-Za-z0-9])?$/;

// registry[:port]/path/name, then a tag, a digest or both: an image that names no
// version would change under the platform.
const IMAGE_RE =
  /^[a-z0-9]([a-z0-9._-]*[a-z0-9])?(:[0-9]{1,5})?(\/[a-z0-9]([a-z0-9._-]*[a-z0-9])?)*((:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})(@sha256:[0-9a-f]{64})?|@sha256:[0-9a-f]{64})$/;

const labelKey = z.string().max(316).regex(LABEL_KEY_RE, {
  error: "a label key is a name (letters, digits, - _ .; at most 63) with an optional DNS prefix and /",
});
const labelValue = z.string().regex(LABEL_VALUE_RE, {
  error:
    "a label value has at most 63 letters, digits, - _ and ., starting and ending with a letter or digit",
});

const image = (what: string, fallback: string) =>
  z
    .string()
    .max(512)
    .regex(IMAGE_RE, {
      error: `an image reference with a tag or digest, such as ${DEFAULT_PROXY_IMAGE}`,
    })
    .default(fallback)
    .describe(`Image of the ${what}.`);

const expose = z
  .discriminatedUnion("type", [
    z
      .strictObject({
        type: z
          .literal("LoadBalancer")
          .describe("a Service of type LoadBalancer (the cloud's load balancer)."),
      })
      .describe("A load balancer in front of the proxy."),
    z
      .strictObject({
        type: z.literal("NodePort").describe("a port opened on every node."),
        port: z
          .int()
          .min(NODE_PORT_RANGE.min)
          .max(NODE_PORT_RANGE.max)
          .describe(`The node port (${NODE_PORT_RANGE.min}-${NODE_PORT_RANGE.max}).`),
        ssh_port: z
          .int()
          .min(NODE_PORT_RANGE.min)
          .max(NODE_PORT_RANGE.max)
          .optional()
          .describe("The SSH gateway's node port. Default: one the cluster picks (atrium status shows it)."),
      })
      .describe("A port on every node."),
    z
      .strictObject({
        type: z.literal("Ingress").describe("a host on an ingress controller the cluster already runs."),
        host: z
          .string()
          .regex(HOST_RE, { error: "a host name such as jupyter.example.com" })
          .describe("Host name the ingress routes to the platform."),
        class: name.optional().describe("Ingress class. Default: the cluster's default class."),
      })
      .describe("A host on the cluster's ingress controller."),
  ])
  .describe("How people reach the platform.");

const storage = z
  .strictObject({
    storage_class: name
      .optional()
      .describe(
        "A storage class that provisions ReadWriteMany volumes (NFS, EFS, Filestore, Azure Files...).",
      ),
    size: size.optional().describe("Size of the volume, with storage_class, e.g. 100Gi."),
    nfs: z
      .strictObject({
        server: z.string().min(1).describe("NFS server's host name or address."),
        path: absPath.describe("Exported path on the server."),
      })
      .optional()
      .describe("An existing NFS export, mounted through a static volume."),
    host_path: z
      .strictObject({ path: absPath.describe("Folder on the node.") })
      .optional()
      .describe(
        "A folder on the node: for single-node clusters only (refused when the cluster has more nodes).",
      ),
  })
  .describe(
    "The one shared volume for homes, group folders and environments: exactly one of storage_class (with size), nfs or host_path.",
  );

const taint = z
  .strictObject({
    key: labelKey.describe("Taint key."),
    value: labelValue.optional().describe("Taint value; none matches any value."),
    effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]).describe("Taint effect."),
  })
  .describe("A taint of the pool's nodes, tolerated by the pods placed there.");

const nodePool = z
  .strictObject({
    labels: z
      .record(labelKey, labelValue)
      .default({})
      .describe("Node labels that select the pool's nodes (a node selector)."),
    taints: z
      .array(taint)
      .default([])
      .describe("Taints the pool's nodes carry; pods placed there tolerate them."),
  })
  .describe("Nodes profiles may be placed on.");

export const kubernetesTarget = z
  .strictObject({
    type: z.literal("kubernetes").describe("An existing Kubernetes cluster."),
    context: name.optional().describe("kubeconfig context to deploy to. Default: the current context."),
    namespace: z
      .string()
      .max(63)
      .regex(DNS_LABEL_RE, {
        error: "a namespace is DNS-safe: lower case letters, digits and -, starting with a letter",
      })
      .optional()
      .describe("Namespace the platform runs in; Atrium makes it. Default: the project's name."),
    expose: expose.default({ type: "LoadBalancer" }),
    https: https.default({ mode: "none" }),
    storage,
    node_pools: z
      .record(slug("node pool"), nodePool)
      .default({})
      .describe("Named groups of nodes (labels and taints) profiles may name; empty: servers run anywhere."),
    images: z
      .strictObject({
        hub: image(
          "hub (its Python environment is built onto the volume from the hub lockfile)",
          DEFAULT_HUB_IMAGE,
        ),
        proxy: image("proxy (configurable-http-proxy)", DEFAULT_PROXY_IMAGE),
        user: image("user servers (their environments are built onto the volume)", DEFAULT_USER_IMAGE),
      })
      .default({ hub: DEFAULT_HUB_IMAGE, proxy: DEFAULT_PROXY_IMAGE, user: DEFAULT_USER_IMAGE })
      .describe("The upstream images the platform runs; each may be replaced, e.g. by a mirror's copy."),
    index_url: z
      .url({ protocol: /^https?$/, error: "must be an http or https URL such as https://pypi.org/simple" })
      .default(DEFAULT_INDEX_URL)
      .describe(
        "Package index (PEP 503) environments are built from inside the cluster; a mirror for teams behind one.",
      ),
    hub_storage: z
      .strictObject({
        size: size.default("1Gi").describe("Size of the hub's database volume."),
        storage_class: name
          .optional()
          .describe("Storage class of that volume. Default: the cluster's default."),
      })
      .default({ size: "1Gi" })
      .describe("The hub's own ReadWriteOnce volume for its database."),
    network_policy: z
      .strictObject({
        require_enforcement: z
          .boolean()
          .default(true)
          .describe(
            "Refuse to deploy to a cluster that does not enforce NetworkPolicies (user pods could then reach each other and the storage server); false accepts that.",
          ),
      })
      .default({ require_enforcement: true })
      .describe("What plan demands of the cluster's network isolation."),
  })
  .describe("The platform on an existing Kubernetes cluster.");
