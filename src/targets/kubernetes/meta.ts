/** What every object family renders from, and the metadata every object carries. */
import type { Platform } from "../../model/platform.js";
import type { ObjectMeta } from "./objects.js";
import { type KubernetesPlacement, labelsOf } from "./placement.js";

export interface SourceHashes {
  /** The hub and user lockfiles and the hub glue. */
  hub: string;
  /** The Node.js lockfile and the environment service. */
  envs: string;
  /** The Node.js lockfile and the SSH gateway. */
  ssh: string;
}

export interface RenderInput {
  platform: Platform;
  placement: KubernetesPlacement;
  /** Of what deploy puts in ConfigMaps for each pod that reads it (env-sources.ts). */
  sourceHashes: SourceHashes;
  /** Of single sign-on's client secret (cluster/oidc-secret.ts); null without OIDC or before it is known. */
  oidcClientDigest: string | null;
}

/** Name, namespace (unless cluster-wide) and the part's labels, inventory label included. */
export function metaOf(input: RenderInput, name: string, component: string, namespaced = true): ObjectMeta {
  const meta: ObjectMeta = {
    name,
    labels: labelsOf(input.placement, input.platform.project.name, component),
  };
  if (namespaced) meta.namespace = input.placement.namespace;
  return meta;
}
