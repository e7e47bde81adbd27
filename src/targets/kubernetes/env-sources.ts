/**
 * Atrium's own code and locks as cluster data: the hub and user lockfiles, the hub glue
 * and the Video Chat JupyterLab extension (gzipped tars; the extension's empty when video
 * chat is off), projected together into the hub's init container, and the Node.js
 * lockfile and the environment service (one bundled file, gzipped) for the service's pod;
 * each in a ConfigMap of its own (a ConfigMap holds at most 1 MiB). They are read from the
 * repository at deploy and never rendered to files; the render carries only their hashes,
 * one on each pod template, so a changed lock or glue restarts the hub and nothing else,
 * and a changed service restarts only the service.
 */
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { AtriumError } from "../../errors.js";
import { hashText } from "../../lib/hash.js";
import { tarGz } from "../../lib/tar.js";
import { repoPath } from "../../paths.js";
import { GLUE_SOURCE, glueFiles } from "../hub-glue-files.js";
import { filesHash, filesUnder, videoChatBuild, videoChatBuilt } from "../videochat-build.js";
import { metaOf, type RenderInput } from "./meta.js";
import type { KubeObject } from "./objects.js";

export const ENV_SOURCE_KEYS = {
  hubLock: "hub.lock",
  userLock: "user.lock",
  glue: "hub-glue.tar.gz",
  videochat: "videochat-labextension.tar.gz",
  nodeLock: "node.lock",
  envsService: "envs-service.mjs.gz",
  sshGateway: "ssh-gateway.mjs.gz",
} as const;
const CONFIGMAP_LIMIT = 1024 * 1024;

export interface EnvSources {
  hubLock: string;
  userLock: string;
  /** python/atrium_hub as atrium_hub/... in a gzipped tar. */
  glue: Buffer;
  /** The built extension's files (package.json, static/...) in a gzipped tar; no files when video chat is off. */
  videochat: Buffer;
  /** Of all four: the hub's pod template carries it. */
  hash: string;
  nodeLock: string;
  /** dist/envs-service.mjs (made by the build), gzipped. */
  envsService: Buffer;
  /** Of the Node lock and the service: the service pod's template carries it. */
  envsHash: string;
  /** dist/ssh-gateway.mjs (made by the build), gzipped. */
  sshGateway: Buffer;
  /** Of the Node lock and the SSH gateway: the gateway pod's template carries it. */
  sshHash: string;
}

/** A service the build bundles into one file (scripts/bundle.mjs), gzipped. */
function readBundle(name: string): Buffer {
  const file = repoPath("dist", name);
  try {
    // mtime 0 in the gzip header: the same file gives the same bytes
    return gzipSync(readFileSync(file), { level: 9 });
  } catch {
    throw new AtriumError("not-found", `${file} is missing`, "run npm run build in Atrium's folder");
  }
}

/** The Video Chat extension as `npm run build` left it, archived; refused when it was not built. */
function readVideoChat(enabled: boolean): Buffer {
  if (!enabled) return tarGz([]);
  if (!videoChatBuilt()) {
    throw new AtriumError(
      "not-found",
      `the Video Chat JupyterLab extension is not built (${videoChatBuild()} has no package.json)`,
      "run npm run build in Atrium's folder, or set videochat.enabled: false",
    );
  }
  const root = videoChatBuild();
  return tarGz(
    filesUnder(root).map((file) => ({
      path: file.slice(root.length + 1),
      content: readFileSync(file),
      mode: 0o644,
    })),
  );
}

/**
 * The extension's source (its package.json, src/ and style/, in the repository): what the
 * hub's pod template carries for it. The built files name modules by where the repository
 * sits, so their hash would differ between two checkouts of the same commit.
 */
function videoChatSourceHash(): string {
  const root = repoPath("extensions", "videochat");
  return filesHash(root, [
    join(root, "package.json"),
    ...filesUnder(join(root, "src")),
    ...filesUnder(join(root, "style")),
  ]);
}

/** `videochat`: whether the file turns video chat on (its extension then goes into the user env). */
export function readEnvSources(videochat: boolean): EnvSources {
  const hubLock = readFileSync(repoPath("envs", "hub", "requirements.lock"), "utf8");
  const userLock = readFileSync(repoPath("envs", "user", "requirements.lock"), "utf8");
  const glue = tarGz(
    glueFiles().map((file) => ({
      path: `atrium_hub${file.slice(GLUE_SOURCE.length)}`,
      content: readFileSync(file),
      mode: statSync(file).mode & 0o755,
    })),
  );
  const videochatTar = readVideoChat(videochat);
  const hash = hashText(
    [hashText(hubLock), hashText(userLock), hashText(glue), videochat ? videoChatSourceHash() : ""].join(
      "\n",
    ),
  );
  const nodeLock = readFileSync(repoPath("envs", "node", "requirements.lock"), "utf8");
  const envsService = readBundle("envs-service.mjs");
  const envsHash = hashText([hashText(nodeLock), hashText(envsService)].join("\n"));
  const sshGateway = readBundle("ssh-gateway.mjs");
  const sshHash = hashText([hashText(nodeLock), hashText(sshGateway)].join("\n"));
  return {
    hubLock,
    userLock,
    glue,
    videochat: videochatTar,
    hash,
    nodeLock,
    envsService,
    envsHash,
    sshGateway,
    sshHash,
  };
}

/** The hub's ConfigMaps' names, in the order its projected volume lists them. */
export const ENV_SOURCE_CONFIGMAPS = {
  hubLock: "env-source-hub-lock",
  userLock: "env-source-user-lock",
  glue: "env-source-hub-glue",
  videochat: "env-source-videochat",
} as const;
/** The environment service pod's. */
export const ENVS_SOURCE_CONFIGMAPS = {
  nodeLock: "env-source-node-lock",
  envsService: "env-source-envs-service",
} as const;
/** The SSH gateway pod's. */
export const SSH_SOURCE_CONFIGMAPS = {
  nodeLock: ENVS_SOURCE_CONFIGMAPS.nodeLock,
  sshGateway: "env-source-ssh-gateway",
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
    sized(
      cm(ENV_SOURCE_CONFIGMAPS.videochat, {
        binaryData: { [ENV_SOURCE_KEYS.videochat]: sources.videochat.toString("base64") },
      }),
      Math.ceil((sources.videochat.length * 4) / 3),
    ),
    sized(
      cm(ENVS_SOURCE_CONFIGMAPS.nodeLock, { data: { [ENV_SOURCE_KEYS.nodeLock]: sources.nodeLock } }),
      sources.nodeLock.length,
    ),
    sized(
      cm(ENVS_SOURCE_CONFIGMAPS.envsService, {
        binaryData: { [ENV_SOURCE_KEYS.envsService]: sources.envsService.toString("base64") },
      }),
      Math.ceil((sources.envsService.length * 4) / 3),
    ),
    sized(
      cm(SSH_SOURCE_CONFIGMAPS.sshGateway, {
        binaryData: { [ENV_SOURCE_KEYS.sshGateway]: sources.sshGateway.toString("base64") },
      }),
      Math.ceil((sources.sshGateway.length * 4) / 3),
    ),
  ];
}

/** One pod's sources as one folder: the hub's four, or the service pod's two. */
export function envSourcesVolume(
  configMaps: Record<string, string> = ENV_SOURCE_CONFIGMAPS,
): Record<string, unknown> {
  return {
    name: "env-sources",
    projected: {
      sources: Object.values(configMaps).map((name) => ({ configMap: { name } })),
    },
  };
}
