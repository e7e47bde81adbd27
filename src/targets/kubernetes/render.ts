/**
 * Render the kubernetes target: Platform + the kubernetes block + the identity record
 * -> the platform's Kubernetes objects in apply-wave order, and the Secrets they refer
 * to by name. Pure and deterministic; no secret value anywhere. Nothing here talks to
 * a cluster.
 */

import type { KubernetesTargetConfig } from "../../config/schema.js";
import { stableJson } from "../../lib/stable-json.js";
import type { Platform } from "../../model/platform.js";
import type { Artifacts } from "../artifacts.js";
import { renderConfigMaps } from "./config.js";
import { renderDaskGateway } from "./dask-gateway.js";
import { renderEnvs } from "./envs.js";
import { renderHub } from "./hub.js";
import type { IdentityRecord } from "./identities.js";
import type { RenderInput, SourceHashes } from "./meta.js";
import { renderNamespace } from "./namespace.js";
import { inWaveOrder, objectFileName, type RenderedObject, WAVES } from "./objects.js";
import { derivePlacement, type KubernetesPlacement } from "./placement.js";
import { renderPolicies } from "./policies.js";
import { renderProxy } from "./proxy.js";
import { renderRbac } from "./rbac.js";
import { type KubernetesSecretRef, secretRefs } from "./secrets.js";
import { renderSshGateway } from "./ssh-gateway.js";
import { renderStorage } from "./storage.js";
import { renderStoragePrepare } from "./storage-prepare.js";

export interface KubernetesRender {
  input: RenderInput;
  placement: KubernetesPlacement;
  /** In apply order; delete in reverse. */
  objects: RenderedObject[];
  secrets: KubernetesSecretRef[];
  identities: IdentityRecord;
}

export const SECRETS_FILE = "secrets.json";
export const IDENTITIES_FILE = "identities.json";

export function renderKubernetes(
  platform: Platform,
  block: KubernetesTargetConfig,
  identities: IdentityRecord,
  sourceHashes: SourceHashes,
  oidcClientDigest: string | null = null,
): KubernetesRender {
  const input: RenderInput = {
    platform,
    placement: derivePlacement(platform, block, identities),
    sourceHashes,
    oidcClientDigest,
  };
  const config = renderConfigMaps(input);
  const settings = config[0]?.object;
  if (settings === undefined) throw new Error("the hub settings ConfigMap was not rendered");
  const objects = inWaveOrder([
    ...renderNamespace(input),
    ...renderRbac(input),
    ...config,
    ...renderStorage(input),
    // the volume's folders first: the hub builds its environments into one of them
    ...renderStoragePrepare(input),
    // the proxy before the hub: the hub stops at start when no proxy answers
    ...renderProxy(input),
    ...renderHub(input, settings),
    ...renderEnvs(input),
    ...renderDaskGateway(input),
    ...renderSshGateway(input),
    ...renderPolicies(input),
  ]);
  return { input, placement: input.placement, objects, secrets: secretRefs(input), identities };
}

/** The render as files: one per object under its wave's folder ("3-config/configmap-hub-settings.json"). */
export function kubernetesArtifacts(render: KubernetesRender): Artifacts {
  const artifacts: Artifacts = new Map();
  for (const { wave, object } of render.objects) {
    const folder = `${WAVES.indexOf(wave) + 1}-${wave}`;
    const file = `${folder}/${objectFileName(object)}.json`;
    if (artifacts.has(file)) throw new Error(`two objects render to ${file}`);
    artifacts.set(file, stableJson(object));
  }
  artifacts.set(SECRETS_FILE, stableJson(render.secrets));
  artifacts.set(IDENTITIES_FILE, stableJson(render.identities));
  return new Map([...artifacts.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
}
