/**
 * One connection to a Kubernetes cluster: the kubeconfig (KUBECONFIG honoured, the
 * file's context or the current one), and the generic object API every part of the
 * kubernetes target goes through. Errors from the API become AtriumErrors that say
 * which cluster, which object and what to check.
 */
import {
  ApiException,
  KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
} from "@kubernetes/client-node";
import { AtriumError } from "../../../errors.js";

export const FIELD_MANAGER = "atrium";

export interface ClusterConnection {
  /** The kubeconfig context in use. */
  context: string;
  /** The API server's URL, for messages. */
  server: string;
  objects: KubernetesObjectApi;
  config: KubeConfig;
}

/** Connects through the kubeconfig; `context` undefined: its current context. */
export function connect(context: string | undefined): ClusterConnection {
  const config = new KubeConfig();
  try {
    config.loadFromDefault();
  } catch (err) {
    throw new AtriumError(
      "prerequisite",
      `can't read the kubeconfig: ${(err as Error).message}`,
      "set KUBECONFIG to the file kubectl uses for the cluster",
    );
  }
  if (context !== undefined) {
    const known = config.getContexts().map((c) => c.name);
    if (!known.includes(context))
      throw new AtriumError(
        "prerequisite",
        `the kubeconfig has no context ${context}${known.length ? ` (it has: ${known.join(", ")})` : ""}`,
        "fix target.context in the file, or set KUBECONFIG to the kubeconfig that has it",
      );
    config.setCurrentContext(context);
  }
  const server = config.getCurrentCluster()?.server;
  if (!server)
    throw new AtriumError(
      "prerequisite",
      "the kubeconfig names no cluster for its current context",
      "set target.context in the file, or KUBECONFIG to a kubeconfig with a current context",
    );
  return {
    context: config.getCurrentContext(),
    server,
    objects: KubernetesObjectApi.makeApiClient(config),
    config,
  };
}

export function statusOf(err: unknown): number | undefined {
  return err instanceof ApiException ? err.code : undefined;
}

export const isNotFound = (err: unknown) => statusOf(err) === 404;
export const isConflict = (err: unknown) => statusOf(err) === 409;

/** What the API server said, in one line (its Status message when there is one). */
export function apiMessage(err: unknown): string {
  if (err instanceof ApiException) {
    const body = typeof err.body === "string" ? safeJson(err.body) : err.body;
    const message = (body as { message?: unknown } | undefined)?.message;
    return `${err.code}${typeof message === "string" ? `: ${message}` : ""}`;
  }
  return err instanceof Error ? err.message : String(err);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text.slice(0, 300) };
  }
}

export function describe(obj: KubernetesObject): string {
  const ns = obj.metadata?.namespace ? `${obj.metadata.namespace}/` : "";
  return `${obj.kind} ${ns}${obj.metadata?.name ?? "?"}`;
}

/** An API call that failed, as an AtriumError naming the cluster and the object. */
export function clusterError(conn: ClusterConnection, doing: string, err: unknown): AtriumError {
  if (err instanceof AtriumError) return err;
  const status = statusOf(err);
  if (status === undefined)
    return new AtriumError(
      "unreachable",
      `can't reach the cluster at ${conn.server} (context ${conn.context}) while ${doing}: ${apiMessage(err)}`,
      `check that the cluster answers: kubectl --context ${conn.context} get namespaces`,
    );
  const fix =
    status === 401 || status === 403
      ? `the kubeconfig's user for context ${conn.context} lacks the right; Atrium needs to manage its namespace`
      : undefined;
  return new AtriumError("apply-failed", `the cluster refused ${doing}: ${apiMessage(err)}`, fix);
}
