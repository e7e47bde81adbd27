/**
 * The kubernetes target as a Target. It renders (atrium render writes its manifests)
 * but does not reach a cluster yet: plan, deploy, status, logs and destroy refuse
 * with one clear error. Without a cluster's recorded identities the render allocates
 * ids from an empty record (the file's ids kept), the same on every run.
 */
import { dirname, resolve } from "node:path";
import type { Config, KubernetesTargetConfig } from "../../config/schema.js";
import { AtriumError } from "../../errors.js";
import { derivePlatform } from "../../model/platform.js";
import type { Target } from "../target.js";
import { allocateIdentities, EMPTY_IDENTITIES, fileIdentitiesOf } from "./identities.js";
import { kubernetesArtifacts, renderKubernetes } from "./render.js";

export const NOT_DEPLOYABLE = "not supported yet: the kubernetes target renders but cannot deploy yet";

function notYet(): never {
  throw new AtriumError(
    "not-supported",
    NOT_DEPLOYABLE,
    "atrium render -o DIR writes its manifests; deploying them to a cluster is not built yet",
  );
}

function kubernetesBlock(config: Config): KubernetesTargetConfig {
  if (config.target.type !== "kubernetes") throw new Error("kubernetesTarget called for another target");
  return config.target;
}

export function kubernetesTarget(config: Config, configFile: string): Target {
  const platform = derivePlatform(config, dirname(resolve(configFile)));
  const block = kubernetesBlock(config);
  const identities = allocateIdentities(EMPTY_IDENTITIES, platform, fileIdentitiesOf(config));
  const artifacts = kubernetesArtifacts(renderKubernetes(platform, block, identities));
  return {
    type: "kubernetes",
    platform,
    render: () => artifacts,
    components: notYet,
    get state() {
      return notYet();
    },
    get lock() {
      return notYet();
    },
    preflight: async () => notYet(),
    status: async () => notYet(),
    logNames: () => [],
    logs: async () => notYet(),
    destroy: async () => notYet(),
    endpoints: () => [],
  };
}
