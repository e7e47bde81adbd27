/**
 * The proxy (configurable-http-proxy, the upstream image): its API Service for the hub,
 * its public Service as the file's expose says (a load balancer, a node port, or an
 * ingress host in front of a cluster-internal Service), and its Deployment. With HTTPS
 * and no ingress the proxy serves TLS itself from the proxy-tls Secret (made by deploy:
 * generated once for self-signed, the given files for manual); behind an ingress the
 * ingress does, from the same Secret. The API token comes from the platform's Secret by
 * reference, never as a value.
 */
import { metaOf, type RenderInput } from "./meta.js";
import type { KubeObject, RenderedObject } from "./objects.js";
import { instanceLabels, selectorOf } from "./placement.js";
import { HUB_PORT, PROXY_API_PORT, PROXY_HTTPS_PORT, PROXY_PUBLIC_PORT } from "./pod-paths.js";
import { tlsAtProxy } from "./public-url.js";

export const PROXY_COMPONENT = "proxy";
const TLS_DIR = "/etc/atrium/tls";

interface ServicePort {
  name: string;
  port: number;
  targetPort: string;
  protocol: "TCP";
  nodePort?: number;
}

function publicPorts(input: RenderInput): ServicePort[] {
  const { block } = input.placement;
  const http: ServicePort = { name: "http", port: 80, targetPort: "http", protocol: "TCP" };
  const https: ServicePort = { name: "https", port: 443, targetPort: "https", protocol: "TCP" };
  const tls = tlsAtProxy(input.placement);
  if (block.expose.type === "NodePort") {
    // one node port: the scheme the platform is served with
    return [{ ...(tls ? https : http), nodePort: block.expose.port }];
  }
  return tls ? [http, https] : [http];
}

function proxyCommand(input: RenderInput): string[] {
  const { names } = input.placement;
  const hub = `http://${names.hub}:${HUB_PORT}`;
  const command = [
    "configurable-http-proxy",
    "--ip=0.0.0.0",
    "--api-ip=0.0.0.0",
    `--api-port=${PROXY_API_PORT}`,
    `--default-target=${hub}`,
    `--error-target=${hub}/hub/error`,
  ];
  if (!tlsAtProxy(input.placement)) return [...command, `--port=${PROXY_PUBLIC_PORT}`];
  const tls = [
    ...command,
    `--port=${PROXY_HTTPS_PORT}`,
    `--ssl-cert=${TLS_DIR}/tls.crt`,
    `--ssl-key=${TLS_DIR}/tls.key`,
  ];
  // behind a load balancer, plain HTTP (port 80) is answered with a redirect to HTTPS (443);
  // a node port serves HTTPS only
  if (input.placement.block.expose.type !== "LoadBalancer") return tls;
  return [...tls, `--redirect-port=${PROXY_PUBLIC_PORT}`, "--redirect-to=443"];
}

export function renderProxy(input: RenderInput): RenderedObject[] {
  const { platform, placement } = input;
  const { names, block } = placement;
  const project = platform.project.name;
  const selector = selectorOf(project, PROXY_COMPONENT);
  const tls = tlsAtProxy(placement);
  const exposeType = block.expose.type === "Ingress" ? "ClusterIP" : block.expose.type;
  const objects: RenderedObject[] = [
    {
      wave: "services",
      object: {
        apiVersion: "v1",
        kind: "Service",
        metadata: metaOf(input, names.proxyApi, PROXY_COMPONENT),
        spec: {
          type: "ClusterIP",
          selector,
          ports: [{ name: "api", port: PROXY_API_PORT, targetPort: "api", protocol: "TCP" }],
        },
      },
    },
    {
      wave: "services",
      object: {
        apiVersion: "v1",
        kind: "Service",
        metadata: metaOf(input, names.proxyPublic, PROXY_COMPONENT),
        spec: { type: exposeType, selector, ports: publicPorts(input) },
      },
    },
  ];
  if (block.expose.type === "Ingress") objects.push({ wave: "services", object: renderIngress(input) });
  const ports = [
    { name: "http", containerPort: PROXY_PUBLIC_PORT, protocol: "TCP" },
    ...(tls ? [{ name: "https", containerPort: PROXY_HTTPS_PORT, protocol: "TCP" }] : []),
    { name: "api", containerPort: PROXY_API_PORT, protocol: "TCP" },
  ];
  objects.push({
    wave: "workloads",
    object: {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: metaOf(input, names.proxy, PROXY_COMPONENT),
      spec: {
        replicas: 1,
        // the routing table lives in the proxy; the hub restores it when a new proxy starts
        strategy: { type: "Recreate" },
        selector: { matchLabels: selector },
        template: {
          metadata: { labels: instanceLabels(project, PROXY_COMPONENT) },
          spec: {
            automountServiceAccountToken: false,
            securityContext: {
              runAsUser: 65534,
              runAsGroup: 65534,
              // the TLS files are group-readable to it
              fsGroup: 65534,
              runAsNonRoot: true,
              seccompProfile: { type: "RuntimeDefault" },
            },
            containers: [
              {
                name: "proxy",
                image: block.images.proxy,
                imagePullPolicy: "IfNotPresent",
                command: proxyCommand(input),
                env: [
                  {
                    name: "CONFIGPROXY_AUTH_TOKEN",
                    valueFrom: { secretKeyRef: { name: names.secrets, key: "proxy_auth_token" } },
                  },
                ],
                ports,
                readinessProbe: { tcpSocket: { port: "api" }, periodSeconds: 5 },
                resources: { requests: { cpu: "100m", memory: "128Mi" } },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  capabilities: { drop: ["ALL"] },
                  readOnlyRootFilesystem: true,
                },
                ...(tls ? { volumeMounts: [{ name: "tls", mountPath: TLS_DIR, readOnly: true }] } : {}),
              },
            ],
            ...(tls
              ? { volumes: [{ name: "tls", secret: { secretName: names.tls, defaultMode: 0o440 } }] }
              : {}),
          },
        },
      },
    },
  });
  return objects;
}

function renderIngress(input: RenderInput): KubeObject {
  const { names, block } = input.placement;
  if (block.expose.type !== "Ingress") throw new Error("an ingress is rendered only for expose type Ingress");
  const { host } = block.expose;
  const spec: Record<string, unknown> = {
    rules: [
      {
        host,
        http: {
          paths: [
            {
              path: "/",
              pathType: "Prefix",
              backend: { service: { name: names.proxyPublic, port: { name: "http" } } },
            },
          ],
        },
      },
    ],
  };
  if (block.expose.class !== undefined) spec.ingressClassName = block.expose.class;
  if (block.https.mode !== "none") spec.tls = [{ hosts: [host], secretName: names.tls }];
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: metaOf(input, names.ingress, PROXY_COMPONENT),
    spec,
  };
}
