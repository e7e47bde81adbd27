/**
 * The Kubernetes API as the gateway's pod sees it: the API server from the
 * environment every pod gets, trusted by the cluster's CA, as the pod's service
 * account (its token re-read for each request, since the kubelet rotates it).
 * JSON requests, and WebSockets for exec and port-forward (channels.ts).
 */
import { readFileSync } from "node:fs";
import WebSocket from "ws";
import { requestText } from "../../../lib/http-request.js";

const ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

export interface KubeApi {
  namespace: string;
  getJson(path: string): Promise<unknown>;
  mergePatch(path: string, body: unknown): Promise<void>;
  /** A WebSocket to an exec or port-forward path (query included), speaking `protocol`. */
  socket(pathAndQuery: string, protocol: string): WebSocket;
}

export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function inClusterApi(): KubeApi {
  const host = process.env.KUBERNETES_SERVICE_HOST;
  const port = process.env.KUBERNETES_SERVICE_PORT ?? "443";
  if (!host) throw new Error("KUBERNETES_SERVICE_HOST is not set: the gateway runs in a pod of the cluster");
  const base = `https://${host.includes(":") ? `[${host}]` : host}:${port}`;
  const ca = readFileSync(`${ACCOUNT_DIR}/ca.crt`, "utf8");
  const namespace = readFileSync(`${ACCOUNT_DIR}/namespace`, "utf8").trim();
  const token = () => readFileSync(`${ACCOUNT_DIR}/token`, "utf8").trim();
  const send = async (method: string, path: string, body?: unknown, type = "application/json") => {
    const answer = await requestText(`${base}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${token()}`,
        Accept: "application/json",
        ...(body === undefined ? {} : { "Content-Type": type }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      timeoutMs: 15_000,
      ca,
    });
    if (answer.status < 200 || answer.status >= 300) {
      let reason = answer.text.slice(0, 300);
      try {
        reason = String((JSON.parse(answer.text) as { message?: unknown }).message ?? reason);
      } catch {
        // not a Status object
      }
      throw new KubeApiError(answer.status, `${method} ${path}: ${answer.status} ${reason}`);
    }
    return answer.text;
  };
  return {
    namespace,
    async getJson(path) {
      return JSON.parse(await send("GET", path)) as unknown;
    },
    async mergePatch(path, body) {
      await send("PATCH", path, body, "application/merge-patch+json");
    },
    socket(pathAndQuery, protocol) {
      return new WebSocket(`wss://${base.slice("https://".length)}${pathAndQuery}`, [protocol], {
        ca,
        headers: { Authorization: `Bearer ${token()}` },
        perMessageDeflate: false,
      });
    },
  };
}
