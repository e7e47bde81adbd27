/**
 * Atrium's own code and locks as cluster data: the hub and user lockfiles and the hub
 * glue (a gzipped tar), each in a ConfigMap of its own (a ConfigMap holds at most 1 MiB),
 * projected together into the hub's init container. They are read from the repository
 * at deploy and never rendered to files; the render carries only their hash, on the hub's
 * pod template, so a changed lock or glue restarts the hub and nothing else.
 */
import { readFileSync, statSync } from "node:fs";
import { hashText } from "../../lib/hash.js";
import { tarGz } from "../../lib/tar.js";
import { repoPath } from "../../paths.js";
import { GLUE_SOURCE, glueFiles } from "../hub-glue-files.js";
import { metaOf, type RenderInput } from "./meta.js";
import type { KubeObject } from "./objects.js";

export const ENV_SOURCE_KEYS = {
  hubLock: "hub.lock",
  userLock: "user.lock",
  glue: "hub-glue.tar.gz",
} as const;
const CONFIGMAP_LIMIT = 1024 * 1024;

export interface EnvSources {
  hubLock: string;
  userLock: string;
  /** python/atrium_hub as atrium_hub/... in a gzipped tar. */
  glue: Buffer;
  /** Of all three: the hub's pod template carries it. */
  hash: string;
}

export function readEnvSources(): EnvSources {
  const hubLock = readFileSync(repoPath("envs", "hub", "requirements.lock"), "utf8");
  const userLock = readFileSync(repoPath("envs", "user", "requirements.lock"), "utf8");
  const glue = tarGz(
    glueFiles().map((file) => ({
      path: `atrium_hub${file.slice(GLUE_SOURCE.length)}`,
      content: readFileSync(file),
      mode: statSync(file).mode & 0o755,
    })),
  );
  const hash = hashText([hashText(hubLock), hashText(userLock), hashText(glue)].join("\n"));
  return { hubLock, userLock, glue, hash };
}

/** The ConfigMaps' names, in the order the hub's projected volume lists them. */
export const ENV_SOURCE_CONFIGMAPS = {
  hubLock: "env-source-hub-lock",
  userLock: "env-source-user-lock",
  glue: "env-source-hub-glue",
} as const;

function sized(object: KubeObject, bytes: number): KubeObject {
  if (bytes > CONFIGMAP_LIMIT * 0.9) {
    throw new Error(`${object.metadata.name} would hold ${bytes} bytes, near a ConfigMap's 1 MiB limit`);
  }
  return object;
}

export function envSourceConfigMaps(input: RenderInput, sources: EnvSources): KubeObject[] {
  const cm = (name: string, body: Record<string, unknown>): KubeObject => ({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: metaOf(input, name, "env-sources"),
    ...body,
  });
  const glue = sources.glue.toString("base64");
  return [
    sized(
      cm(ENV_SOURCE_CONFIGMAPS.hubLock, { data: { [ENV_SOURCE_KEYS.hubLock]: sources.hubLock } }),
      sources.hubLock.length,
    ),
    sized(
      cm(ENV_SOURCE_CONFIGMAPS.userLock, { data: { [ENV_SOURCE_KEYS.userLock]: sources.userLock } }),
      sources.userLock.length,
    ),
    sized(cm(ENV_SOURCE_CONFIGMAPS.glue, { binaryData: { [ENV_SOURCE_KEYS.glue]: glue } }), glue.length),
  ];
}

/** The hub's volume of all three, as one folder. */
export function envSourcesVolume(): Record<string, unknown> {
  return {
    name: "env-sources",
    projected: {
      sources: Object.values(ENV_SOURCE_CONFIGMAPS).map((name) => ({ configMap: { name } })),
    },
  };
}
