/**
 * KubeSpawner's part of the hub settings, from the placement: each user's pod as
 * that user (uid, own gid, groups), never privileged (no privilege escalation, every
 * capability dropped, the runtime's seccomp profile), with their home and their
 * groups' folders from the shared volume and the environments read-only; each
 * profile's node selector, tolerations and GPU limit. Pure.
 *
 * Names resolve through generated passwd and group files (accounts.ts) mounted over
 * /etc/passwd and /etc/group: no nss_wrapper, whose LD_PRELOAD fails with static
 * binaries, and no root step in the user's pod. Sessions run under umask 0002 so files
 * in a group folder (setgid, 2770) stay writable by the group.
 */
import type { KubeSpawnerSettings, VolumeMount } from "../../contracts/kube-spawner.js";
import type { Platform } from "../../model/platform.js";
import { ACCOUNT_FILES } from "./accounts.js";
import { daskClientEnvironment } from "./dask-endpoints.js";
import { groupOf, instanceLabels, type KubernetesPlacement, profileOf, userOf } from "./placement.js";
import { ENVS_MOUNT, homeIn, KERNELS_DIR, SERVER_PORT, sharedIn, USER_ENV } from "./pod-paths.js";

export const USER_COMPONENT = "singleuser-server";
export const UMASK = "0002";

const VOLUME = "shared";
const ACCOUNTS = "accounts";

export function renderKubeSpawner(platform: Platform, placement: KubernetesPlacement): KubeSpawnerSettings {
  const server = `${USER_ENV}/bin/jupyterhub-singleuser`;
  return {
    namespace: placement.namespace,
    image: placement.block.images.user,
    image_pull_policy: "IfNotPresent",
    // the umask, then the server with the arguments KubeSpawner appends
    cmd: ["/bin/sh", "-c", `umask ${UMASK} && exec "$@"`, "sh", server],
    umask: UMASK,
    default_url: "/lab",
    port: SERVER_PORT,
    path_prepend: [`${USER_ENV}/bin`],
    // with Dask, `Gateway()` finds the platform's gateway with no arguments
    environment: platform.dask.enabled ? daskClientEnvironment(placement) : {},
    pod_labels: instanceLabels(platform.project.name, USER_COMPONENT),
    container_security_context: USER_CONTAINER_CONTEXT,
    automount_service_account_token: false,
    delete_pvc: false,
    volumes: userPodVolumes(placement),
    volume_mounts: userPodMounts(placement),
    kernels_dir: KERNELS_DIR,
    users: userPodIdentities(platform, placement),
    profiles: platform.profiles.map((p) => {
      const profile = profileOf(placement, p.name);
      const gpus = profile.limits["nvidia.com/gpu"];
      const extra: Record<string, string> = {};
      if (gpus !== undefined) extra["nvidia.com/gpu"] = gpus;
      return {
        name: p.name,
        node_selector: profile.nodeSelector,
        tolerations: profile.tolerations,
        extra_resource_limits: extra,
      };
    }),
  };
}

/** A user's container, in their server's pod and their Dask pods alike. */
export const USER_CONTAINER_CONTEXT: KubeSpawnerSettings["container_security_context"] = {
  runAsNonRoot: true,
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
};

/** The volumes of a user's pods: the shared volume and the passwd and group files. */
export function userPodVolumes(placement: KubernetesPlacement): KubeSpawnerSettings["volumes"] {
  return [
    { name: VOLUME, persistent_volume_claim: placement.names.sharedClaim, config_map: null },
    { name: ACCOUNTS, persistent_volume_claim: null, config_map: placement.names.accounts },
  ];
}

/** What every user's pod mounts: the environments (read-only) and the passwd and group files. */
export function userPodMounts(placement: KubernetesPlacement): VolumeMount[] {
  return [
    { name: VOLUME, mount_path: ENVS_MOUNT, sub_path: placement.envsDir, read_only: true },
    ...ACCOUNT_FILES.map((file) => ({
      name: ACCOUNTS,
      mount_path: `/etc/${file}`,
      sub_path: file,
      read_only: true,
    })),
  ];
}

/** Who each user's pods run as, with their home and their groups' folders. */
export function userPodIdentities(
  platform: Platform,
  placement: KubernetesPlacement,
): KubeSpawnerSettings["users"] {
  return platform.users.map((u) => {
    const user = userOf(placement, u.name);
    const folders: VolumeMount[] = u.groups.flatMap((g) => {
      const folder = groupOf(placement, g).folder;
      return folder === null
        ? []
        : [{ name: VOLUME, mount_path: sharedIn(g), sub_path: folder, read_only: false }];
    });
    return {
      name: u.name,
      uid: user.uid,
      gid: user.gid,
      supplemental_gids: user.supplementalGids,
      volume_mounts: [
        { name: VOLUME, mount_path: homeIn(u.name), sub_path: user.home, read_only: false },
        ...folders,
      ],
    };
  });
}
