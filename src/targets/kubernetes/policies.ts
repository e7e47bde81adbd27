/**
 * NetworkPolicies: every pod of the platform is isolated both ways and may talk only
 * as its work needs. User pods are reached only by the proxy and the hub, and reach
 * only the hub's API, DNS and public addresses: no private range (other users' pods,
 * the storage server, the nodes) and no link-local one (the cloud metadata address
 * 169.254.169.254). The hub reaches the proxy's API, user pods, DNS and HTTPS anywhere
 * (the Kubernetes API and an OIDC provider) and the package index's port (it builds
 * the environments); the proxy the hub, user pods and the environment service; the
 * environment service is reached only by the proxy and reaches only the hub's API, DNS
 * and the package index's port (its builds). With Dask, users' servers also reach the
 * gateway's two proxies; the gateway reaches the hub's API, the API server and the
 * schedulers' ports; a cluster's scheduler and workers reach each other, the gateway's
 * API (schedulers) and public addresses as servers do, and are reached only by the
 * gateway and each other (another user's pods can connect at the network level, but a
 * cluster's TLS wants its own certificate from both ends). A default-deny policy over the whole namespace isolates every other pod, so a pod
 * whose labels are missing or wrong is cut off rather than open; the storage-prepare
 * job talks to no one (its volume is mounted by the node).
 */

import {
  GATEWAY_COMPONENT,
  GATEWAY_TLS_PORT,
  GATEWAY_WEB_PORT,
  SCHEDULER_COMPONENT,
  SCHEDULER_PORTS,
  WORKER_COMPONENT,
} from "./dask-endpoints.js";
import { ENVS_COMPONENT } from "./envs.js";
import { HUB_COMPONENT } from "./hub.js";
import { USER_COMPONENT } from "./kube-spawner.js";
import { metaOf, type RenderInput } from "./meta.js";
import type { KubeObject, RenderedObject } from "./objects.js";
import { selectorOf } from "./placement.js";
import {
  ENVS_PORT,
  HUB_PORT,
  PROXY_API_PORT,
  PROXY_HTTPS_PORT,
  PROXY_PUBLIC_PORT,
  SERVER_PORT,
  SSH_PORT,
} from "./pod-paths.js";
import { PROXY_COMPONENT } from "./proxy.js";
import { SSH_COMPONENT } from "./ssh-gateway.js";

/** Private, shared, loopback and link-local IPv4 ranges; the metadata address is in 169.254.0.0/16. */
export const PRIVATE_IPV4 = [
  "10.0.0.0/8",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.168.0.0/16",
];
/** Unique-local, link-local and loopback IPv6 (fd00:ec2::254 is AWS's metadata address). */
export const PRIVATE_IPV6 = ["::1/128", "fc00::/7", "fe80::/10"];

const tcp = (port: number) => ({ protocol: "TCP", port });
// 53, and 1053 where the resolver runs unprivileged (CoreDNS as non-root): a policy
// sees the pod's port, after the Service's
const DNS_PORTS = [
  { protocol: "UDP", port: 53 },
  { protocol: "TCP", port: 53 },
  { protocol: "UDP", port: 1053 },
  { protocol: "TCP", port: 1053 },
];

const IPV4_RE = /^\d{1,3}(\.\d{1,3}){3}$/;

/** What user pods may not reach: private and link-local ranges, and an NFS server given by a public address. */
export function blockedIpv4(input: RenderInput): string[] {
  const server = input.placement.block.storage.nfs?.server;
  const nfs = server !== undefined && IPV4_RE.test(server) ? [`${server}/32`] : [];
  return [...PRIVATE_IPV4, ...nfs];
}

/**
 * HTTPS, the API server's own port, the package index's port (environments are built
 * in the hub's pod) and the OIDC issuer's (the hub fetches its endpoints and tokens).
 */
export function hubOutPorts(input: RenderInput): number[] {
  const auth = input.platform.auth;
  const issuer = auth.type === "oidc" && auth.issuer !== null ? [portOf(auth.issuer)] : [];
  return [...new Set([443, 6443, portOf(input.placement.block.index_url), ...issuer])].sort((a, b) => a - b);
}

/** The port a URL connects to. */
function portOf(url: string): number {
  const u = new URL(url);
  return u.port === "" ? (u.protocol === "http:" ? 80 : 443) : Number(u.port);
}

export function renderPolicies(input: RenderInput): RenderedObject[] {
  const project = input.platform.project.name;
  const pods = (component: string) => ({ podSelector: { matchLabels: selectorOf(project, component) } });
  // DNS: the cluster's resolver, a pod in some namespace (CoreDNS, kube-dns)
  const dns = { to: [{ namespaceSelector: {}, podSelector: {} }], ports: DNS_PORTS };
  const policy = (name: string, component: string, ingress: unknown[], egress: unknown[]): RenderedObject => {
    const object: KubeObject = {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: metaOf(input, name, component),
      spec: {
        podSelector: { matchLabels: selectorOf(project, component) },
        policyTypes: ["Ingress", "Egress"],
        ingress,
        egress,
      },
    };
    return { wave: "policies", object };
  };
  const dask = input.platform.dask.enabled;
  const toGateway = dask
    ? [{ to: [pods(GATEWAY_COMPONENT)], ports: [tcp(GATEWAY_WEB_PORT), tcp(GATEWAY_TLS_PORT)] }]
    : [];
  const ssh = input.platform.ssh.enabled;
  const hubClients = [
    pods(PROXY_COMPONENT),
    pods(USER_COMPONENT),
    pods(ENVS_COMPONENT),
    ...(ssh ? [pods(SSH_COMPONENT)] : []),
  ];
  // public addresses, as users' servers reach them: no private or link-local range
  const publicOnly = {
    to: [
      { ipBlock: { cidr: "0.0.0.0/0", except: blockedIpv4(input) } },
      { ipBlock: { cidr: "::/0", except: PRIVATE_IPV6 } },
    ],
  };
  return [
    defaultDeny(input),
    policy(
      "hub",
      HUB_COMPONENT,
      [{ from: dask ? [...hubClients, pods(GATEWAY_COMPONENT)] : hubClients, ports: [tcp(HUB_PORT)] }],
      [
        { to: [pods(PROXY_COMPONENT)], ports: [tcp(PROXY_API_PORT)] },
        { to: [pods(USER_COMPONENT)], ports: [tcp(SERVER_PORT)] },
        dns,
        // the Kubernetes API (KubeSpawner), an OIDC provider and the package index, wherever they are
        {
          to: [{ ipBlock: { cidr: "0.0.0.0/0" } }, { ipBlock: { cidr: "::/0" } }],
          ports: hubOutPorts(input).map(tcp),
        },
      ],
    ),
    policy(
      "proxy",
      PROXY_COMPONENT,
      [
        // people, from anywhere
        { ports: [tcp(PROXY_PUBLIC_PORT), tcp(PROXY_HTTPS_PORT)] },
        { from: [pods(HUB_COMPONENT)], ports: [tcp(PROXY_API_PORT)] },
      ],
      [
        { to: [pods(HUB_COMPONENT)], ports: [tcp(HUB_PORT)] },
        { to: [pods(USER_COMPONENT)], ports: [tcp(SERVER_PORT)] },
        { to: [pods(ENVS_COMPONENT)], ports: [tcp(ENVS_PORT)] },
        dns,
      ],
    ),
    policy(
      "envs",
      ENVS_COMPONENT,
      [{ from: [pods(PROXY_COMPONENT)], ports: [tcp(ENVS_PORT)] }],
      [
        { to: [pods(HUB_COMPONENT)], ports: [tcp(HUB_PORT)] },
        dns,
        {
          to: [{ ipBlock: { cidr: "0.0.0.0/0" } }, { ipBlock: { cidr: "::/0" } }],
          ports: [tcp(portOf(input.placement.block.index_url))],
        },
      ],
    ),
    policy(
      "singleuser",
      USER_COMPONENT,
      [{ from: [pods(PROXY_COMPONENT), pods(HUB_COMPONENT)], ports: [tcp(SERVER_PORT)] }],
      [{ to: [pods(HUB_COMPONENT)], ports: [tcp(HUB_PORT)] }, ...toGateway, dns, publicOnly],
    ),
    ...(dask ? daskPolicies(policy, pods, dns, publicOnly) : []),
    ...(ssh
      ? [
          policy(
            "ssh-gateway",
            SSH_COMPONENT,
            // people, from anywhere
            [{ ports: [tcp(SSH_PORT)] }],
            [
              { to: [pods(HUB_COMPONENT)], ports: [tcp(HUB_PORT)] },
              dns,
              // the API server (exec and port-forward reach the pods through it), wherever it is
              {
                to: [{ ipBlock: { cidr: "0.0.0.0/0" } }, { ipBlock: { cidr: "::/0" } }],
                ports: [tcp(443), tcp(6443)],
              },
            ],
          ),
        ]
      : []),
  ];
}

type Policy = (name: string, component: string, ingress: unknown[], egress: unknown[]) => RenderedObject;
type Pods = (component: string) => unknown;

/**
 * The gateway, schedulers and workers: each reached only by whom its work needs. Egress
 * may go to any Dask pod, but ingress from Dask pods is a cluster's own: the gateway makes
 * a policy per cluster (python/atrium_hub/dask_pods.py) letting its pods reach each other,
 * so one user's workers never reach another cluster's scheduler or workers.
 */
function daskPolicies(policy: Policy, pods: Pods, dns: unknown, publicOnly: unknown): RenderedObject[] {
  const schedulerPorts = SCHEDULER_PORTS.map(tcp);
  const cluster = [pods(SCHEDULER_COMPONENT), pods(WORKER_COMPONENT)];
  return [
    policy(
      "dask-gateway",
      GATEWAY_COMPONENT,
      [
        { from: [pods(USER_COMPONENT)], ports: [tcp(GATEWAY_WEB_PORT), tcp(GATEWAY_TLS_PORT)] },
        // schedulers' heartbeats to the gateway's API
        { from: [pods(SCHEDULER_COMPONENT)], ports: [tcp(GATEWAY_WEB_PORT)] },
      ],
      [
        { to: [pods(HUB_COMPONENT)], ports: [tcp(HUB_PORT)] },
        { to: [pods(SCHEDULER_COMPONENT)], ports: schedulerPorts },
        dns,
        // the API server, wherever it is
        {
          to: [{ ipBlock: { cidr: "0.0.0.0/0" } }, { ipBlock: { cidr: "::/0" } }],
          ports: [tcp(443), tcp(6443)],
        },
      ],
    ),
    policy(
      "dask-scheduler",
      SCHEDULER_COMPONENT,
      [{ from: [pods(GATEWAY_COMPONENT)], ports: schedulerPorts }],
      [{ to: [pods(GATEWAY_COMPONENT)], ports: [tcp(GATEWAY_WEB_PORT)] }, { to: cluster }, dns, publicOnly],
    ),
    policy("dask-worker", WORKER_COMPONENT, [], [{ to: cluster }, dns, publicOnly]),
  ];
}

/** Every pod of the namespace isolated both ways unless a policy above lets traffic through. */
function defaultDeny(input: RenderInput): RenderedObject {
  return {
    wave: "policies",
    object: {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: metaOf(input, "default-deny", "policies"),
      spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    },
  };
}
