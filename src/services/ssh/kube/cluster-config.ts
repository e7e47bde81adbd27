/**
 * The gateway's config as its ConfigMap says now, read through the API server (not a
 * mounted file, which the kubelet refreshes only after a minute or so): users a deploy
 * adds log in at once, and a deploy never restarts the gateway, so open sessions stay.
 * Read at most every few seconds; a ConfigMap that cannot be read or is invalid leaves
 * the last good config in use. Where it listens and its host key are fixed for the
 * process (a change there restarts its pod).
 */
import {
  KUBE_SSH_CONFIG_KEY,
  type KubeSshServiceConfig,
  kubeSshServiceConfig,
} from "../../../contracts/kube-ssh-service.js";
import { parseContract } from "../../../contracts/read.js";
import type { KubeApi } from "./in-cluster.js";

const FRESH_MS = 3000;

export interface ClusterConfigSource {
  current(): Promise<KubeSshServiceConfig>;
}

export async function readClusterConfig(api: KubeApi, configMap: string): Promise<KubeSshServiceConfig> {
  const cm = (await api.getJson(`/api/v1/namespaces/${api.namespace}/configmaps/${configMap}`)) as {
    data?: Record<string, string>;
  };
  const text = cm.data?.[KUBE_SSH_CONFIG_KEY];
  if (text === undefined) throw new Error(`ConfigMap ${configMap} has no ${KUBE_SSH_CONFIG_KEY}`);
  return parseContract(
    kubeSshServiceConfig,
    JSON.parse(text),
    `ConfigMap ${configMap} ${KUBE_SSH_CONFIG_KEY}`,
  );
}

export function clusterConfigSource(
  api: KubeApi,
  configMap: string,
  first: KubeSshServiceConfig,
  log: (line: string) => void,
): ClusterConfigSource {
  let config = first;
  let readAt = Date.now();
  let reading: Promise<KubeSshServiceConfig> | undefined;
  return {
    current() {
      if (Date.now() - readAt < FRESH_MS) return Promise.resolve(config);
      reading ??= readClusterConfig(api, configMap)
        .then(
          (next) => {
            if (JSON.stringify(next) !== JSON.stringify(config))
              log(`config changed: ${next.users.length} users`);
            config = next;
            return next;
          },
          (err: unknown) => {
            log(`keeping the last good config: ${(err as Error).message}`);
            return config;
          },
        )
        .finally(() => {
          readAt = Date.now();
          reading = undefined;
        });
      return reading;
    },
  };
}
