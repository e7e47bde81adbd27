/** A kubernetes config's Platform, block and render inputs, as the kubernetes target derives them. */
import { readFileSync } from "node:fs";
import type { Config, KubernetesTargetConfig } from "../../src/config/schema.js";
import { derivePlatform, type Platform } from "../../src/model/platform.js";
import { repoPath } from "../../src/paths.js";
import {
  allocateIdentities,
  EMPTY_IDENTITIES,
  fileIdentitiesOf,
  type IdentityRecord,
} from "../../src/targets/kubernetes/identities.js";
import type { RenderInput } from "../../src/targets/kubernetes/meta.js";
import { derivePlacement } from "../../src/targets/kubernetes/placement.js";
import { configOf } from "./config-of.js";

/** Stands for the hash of the lockfiles and glue deploy reads from the repository. */
export const TEST_SOURCES_HASHES = {
  hub: "0123456789abcdef",
  envs: "fedcba9876543210",
  ssh: "00112233aabbccdd",
};

export interface Kube {
  config: Config;
  platform: Platform;
  block: KubernetesTargetConfig;
  identities: IdentityRecord;
  input: RenderInput;
}

export function kubeOf(config: Config, previous: IdentityRecord = EMPTY_IDENTITIES): Kube {
  if (config.target.type !== "kubernetes") throw new Error("not a kubernetes config");
  const platform = derivePlatform(config, repoPath("examples"));
  const block = config.target;
  const identities = allocateIdentities(previous, platform, fileIdentitiesOf(config));
  return {
    config,
    platform,
    block,
    identities,
    input: {
      platform,
      placement: derivePlacement(platform, block, identities),
      sourceHashes: TEST_SOURCES_HASHES,
      oidcClientDigest: null,
    },
  };
}

/** The team-kubernetes example, with `edit` applied to its text first. */
export function teamKube(edit: (text: string) => string = (t) => t): Kube {
  return kubeOf(configOf(edit(readFileSync(repoPath("examples", "team-kubernetes.yaml"), "utf8"))));
}

/** A small kubernetes config: the given target keys and the rest of the file. */
export function kubeYaml(target: string, rest = ""): string {
  return `project:\n  name: lab\ntarget:\n  type: kubernetes\n${target}users:\n  - name: ada\n    admin: true\n    groups: [ml]\n  - name: bob\n    groups: [ml, viz]\ngroups:\n  - name: ml\n  - name: viz\n    shared_folder: false\n${rest}`;
}
