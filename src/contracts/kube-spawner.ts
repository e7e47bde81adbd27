/**
 * The kubernetes spawner's part of the hub settings (kube_spawner, set where spawner,
 * the local one, is null): what KubeSpawner is configured with, as data. Each user's pod runs as
 * that user's uid, own gid and groups, never privileged, with their home, their groups'
 * folders and the environments (read-only) from the one shared volume, and names
 * resolving through the generated passwd and group files. Rendered by the kubernetes
 * target (src/targets/kubernetes/kube-spawner.ts).
 */
import { z } from "zod";
import { absPath, envName, linuxName, matching, nonEmpty, port } from "./common.js";

export const id = z.number().int().min(1).max(2_147_483_647);

export const labelMap = z.record(z.string(), z.string());

export const volumeMount = z.strictObject({
  name: nonEmpty,
  mount_path: absPath,
  sub_path: nonEmpty.nullable().describe("folder of the volume mounted; null: all of it"),
  read_only: z.boolean(),
});

export const volume = z.strictObject({
  name: nonEmpty,
  persistent_volume_claim: nonEmpty.nullable().describe("claim name"),
  config_map: nonEmpty.nullable().describe("ConfigMap name"),
});

export const toleration = z.strictObject({
  key: nonEmpty,
  operator: z.enum(["Equal", "Exists"]),
  value: z.string().optional(),
  effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]),
});

export const kubeUser = z.strictObject({
  name: linuxName,
  uid: id,
  gid: id.describe("the user's own group"),
  supplemental_gids: z.array(id).describe("the user's groups"),
  volume_mounts: z.array(volumeMount).describe("home and group folders, besides the common mounts"),
});

const kubeProfile = z.strictObject({
  name: nonEmpty,
  node_selector: labelMap,
  tolerations: z.array(toleration),
  extra_resource_limits: z.record(nonEmpty, nonEmpty).describe('e.g. {"nvidia.com/gpu": "1"}'),
});

/** A user's container: never root, no privilege escalation, no capability, the runtime's seccomp profile. */
export const restrictedContext = z.strictObject({
  runAsNonRoot: z.literal(true),
  allowPrivilegeEscalation: z.literal(false),
  capabilities: z.strictObject({ drop: z.tuple([z.literal("ALL")]) }),
  seccompProfile: z.strictObject({ type: z.literal("RuntimeDefault") }),
});

export const kubeSpawner = z.strictObject({
  namespace: nonEmpty,
  image: nonEmpty,
  image_pull_policy: z.enum(["IfNotPresent", "Always", "Never"]),
  cmd: z.array(nonEmpty).min(1).describe("the single-user server command, behind a umask"),
  umask: matching(/^0[0-7]{3}$/, "an octal umask like 0002"),
  default_url: z.string(),
  port: port.describe("the port servers listen on in their pod"),
  path_prepend: z.array(absPath),
  environment: z.record(envName, z.string()),
  pod_labels: labelMap.describe("labels of user pods (never the inventory's: prune must not stop servers)"),
  container_security_context: restrictedContext,
  automount_service_account_token: z.literal(false),
  delete_pvc: z.literal(false).describe("the shared volume is Atrium's, never a user's to delete"),
  volumes: z.array(volume),
  volume_mounts: z.array(volumeMount).describe("mounts every user pod has"),
  kernels_dir: absPath.describe(
    "managed environments' kernelspecs: <kernels_dir>/<user> goes on JUPYTER_PATH",
  ),
  users: z.array(kubeUser),
  profiles: z.array(kubeProfile),
});

export type KubeSpawnerSettings = z.input<typeof kubeSpawner>;
export type VolumeMount = z.input<typeof volumeMount>;
