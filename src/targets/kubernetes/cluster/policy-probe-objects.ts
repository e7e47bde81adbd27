/**
 * The objects of the NetworkPolicy probe (policy-probe.ts), in a namespace of its own:
 * a server pod answering a token on a TCP port, its Service, a client pod that connects
 * to the Service every half second and prints one line per attempt (`reached` or
 * `blocked <why>`), and the policy that denies all ingress to the server. Both pods run
 * `python3 -c` in the target's python image (pulled only if not present), as nobody,
 * with every capability dropped, a read-only root and small requests. Pure.
 */
import type { KubeObject } from "../objects.js";

export const PROBE_COMPONENT = "network-policy-probe";
export const PROBE_SERVER = "probe-server";
export const PROBE_CLIENT = "probe-client";
export const PROBE_POLICY = "deny-ingress-to-server";
export const PROBE_PORT = 8080;
export const PROBE_TOKEN = "atrium-probe";
export const REACHED = "reached";

/** Labels of everything the probe makes: Atrium's, so a probe namespace left by a killed run is found again. */
export const PROBE_LABELS = {
  "app.kubernetes.io/component": PROBE_COMPONENT,
  "app.kubernetes.io/managed-by": "atrium",
  "app.kubernetes.io/name": "atrium",
};

// Listens on both IP families where the pod has both, else IPv4; answers each connection with the token.
const SERVER_CODE = `import socket
try:
    s = socket.create_server(("", ${PROBE_PORT}), family=socket.AF_INET6, dualstack_ipv6=True)
except OSError:
    s = socket.create_server(("", ${PROBE_PORT}))
while True:
    c, _ = s.accept()
    c.sendall(b"${PROBE_TOKEN}\\n")
    c.close()
`;

// A new connection each attempt (a policy applies to new connections), one second at most each.
const CLIENT_CODE = `import socket, sys, time
address = (sys.argv[1], int(sys.argv[2]))
while True:
    try:
        with socket.create_connection(address, timeout=1) as c:
            c.settimeout(1)
            line = "${REACHED}" if c.recv(64).startswith(b"${PROBE_TOKEN}") else "blocked: another answer"
    except OSError as e:
        line = "blocked: " + (type(e).__name__ + " " + str(e)).strip()
    print(line, flush=True)
    time.sleep(0.5)
`;

const role = (name: string) => ({ ...PROBE_LABELS, "atrium.probe/role": name });

export function probeNamespace(name: string): KubeObject {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name, labels: PROBE_LABELS } };
}

function pod(namespace: string, name: string, image: string, args: string[]): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace, labels: role(name) },
    spec: {
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 0,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 65534,
        runAsGroup: 65534,
        seccompProfile: { type: "RuntimeDefault" },
      },
      containers: [
        {
          name: "main",
          image,
          imagePullPolicy: "IfNotPresent",
          command: ["python3", "-u", "-c", ...args],
          env: [{ name: "PYTHONDONTWRITEBYTECODE", value: "1" }],
          resources: {
            requests: { cpu: "10m", memory: "32Mi" },
            limits: { cpu: "200m", memory: "64Mi" },
          },
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
          },
        },
      ],
    },
  };
}

export function probeServerPod(namespace: string, image: string): KubeObject {
  return pod(namespace, PROBE_SERVER, image, [SERVER_CODE]);
}

export function probeService(namespace: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: PROBE_SERVER, namespace, labels: PROBE_LABELS },
    spec: {
      selector: role(PROBE_SERVER),
      ports: [{ name: "probe", protocol: "TCP", port: PROBE_PORT, targetPort: PROBE_PORT }],
    },
  };
}

/** The client connects to `host` (the Service's cluster IP). */
export function probeClientPod(namespace: string, image: string, host: string): KubeObject {
  return pod(namespace, PROBE_CLIENT, image, [CLIENT_CODE, host, String(PROBE_PORT)]);
}

/** No ingress rule: nothing may reach the server pod. */
export function probeDenyPolicy(namespace: string): KubeObject {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: PROBE_POLICY, namespace, labels: PROBE_LABELS },
    spec: { podSelector: { matchLabels: role(PROBE_SERVER) }, policyTypes: ["Ingress"], ingress: [] },
  };
}
