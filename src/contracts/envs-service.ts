/** The environment service's config (services/envs.json): rendered by the target, read by src/services/envs. */
import { z } from "zod";
import { absPath, cgroupParent, httpUrl, listen, nonEmpty, urlPath } from "./common.js";

export const GROUP_EDITORS = ["members", "admins"] as const;
/** acl: POSIX ACLs on a root 0750 folder; group: a root:<group> 0750 folder, for volumes and images without ACL tools. */
export const FOLDER_ACCESS = ["acl", "group"] as const;
export type FolderAccess = (typeof FOLDER_ACCESS)[number];
export type GroupEditors = (typeof GROUP_EDITORS)[number];

export const envsServiceConfig = z
  .strictObject({
    listen,
    prefix: urlPath.describe("path prefix the platform's proxy routes here: /services/envs"),
    hubApiUrl: httpUrl,
    hubPrefix: urlPath,
    clientId: nonEmpty,
    apiTokenFile: absPath.describe("the service's hub token (also its OAuth client secret); root-only"),
    envsDir: absPath.describe("namespaces, environments and builds: <envsDir>/<namespace>/<env>"),
    stateFile: absPath.describe("the store (JSON, root-only folder)"),
    kernelsDir: absPath.describe("per-user kernelspecs: <kernelsDir>/<user>/kernels/<kernel>/kernel.json"),
    daskEnvironmentsFile: absPath
      .nullable()
      .describe("worker environments for dask-gateway (dask-environments contract); null when Dask is off"),
    daskEnvironmentsOwner: z
      .number()
      .int()
      .min(0)
      .nullable()
      .describe("the uid (and gid) that owns that file, 0600: the gateway's account where it is not root"),
    python: absPath.describe("the interpreter every environment is built on"),
    defaultEnv: absPath.describe(
      "the default user env, whose dask and distributed versions managed envs follow",
    ),
    uv: z.strictObject({
      tools: absPath.describe("Atrium's own uv, from the hashed tools lock"),
      cacheDir: absPath.describe("root-owned folder of uv's caches for builds, one per namespace"),
    }),
    buildAccount: nonEmpty.describe("unprivileged system account that runs every build"),
    builds: z.strictObject({
      concurrency: z.number().int().min(1),
      timeoutSeconds: z.number().int().min(1),
      keep: z.number().int().min(1),
      allowSource: z
        .array(nonEmpty)
        .describe("packages builds compile from source; the rest are wheels only"),
    }),
    cgroup: z
      .strictObject({ v1Root: absPath, parent: cgroupParent })
      .nullable()
      .describe("where each build gets its own cgroup; null in a container, whose own limits bound builds"),
    folderAccess: z
      .enum(FOLDER_ACCESS)
      .describe(
        "how a namespace's folder is kept to its readers: POSIX ACLs, or its owning group (the build account a member of every group)",
      ),
    groupEditors: z.enum(GROUP_EDITORS).describe("default for who may edit a group's environments"),
  })
  .describe("services/envs.json: read by the environment service");

export type EnvsServiceConfig = z.infer<typeof envsServiceConfig>;
