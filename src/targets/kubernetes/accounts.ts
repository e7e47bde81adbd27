/**
 * The passwd and group files of the platform's pods, generated: the system's few
 * accounts, the hub's, each user (home /home/<name>, their own group with their uid
 * as gid) and each group with its members. Mounted read-only over /etc/passwd and
 * /etc/group in user pods, so `id`, `ls -l` and shells show names. The environment
 * service's pod gets its own pair: the same plus the build account, a member of every
 * group and of every user's own group, so builds reach any namespace's folder, each of
 * which belongs to root and its group only (layout.ts, folder access "group"). Pure.
 */
import type { Platform } from "../../model/platform.js";
import { BUILD_ACCOUNT } from "../envs-service-parts.js";
import { groupOf, type KubernetesPlacement, userOf } from "./placement.js";
import { BUILD_UID, HUB_DATA_DIR, HUB_UID, homeIn } from "./pod-paths.js";

export const ACCOUNT_FILES = ["passwd", "group"] as const;
/** The environment service pod's passwd and group, keys of the same ConfigMap. */
export const ENVS_ACCOUNT_FILES = { passwd: "envs-passwd", group: "envs-group" } as const;

const SHELL = "/bin/bash";
const NOLOGIN = "/usr/sbin/nologin";

export function renderAccountFiles(
  platform: Platform,
  placement: KubernetesPlacement,
): Record<(typeof ACCOUNT_FILES)[number], string> {
  const passwd = [
    `root:x:0:0:root:/root:${SHELL}`,
    `atrium-hub:x:${HUB_UID}:${HUB_UID}:Atrium hub:${HUB_DATA_DIR}:${NOLOGIN}`,
    ...platform.users.map((u) => {
      const user = userOf(placement, u.name);
      return `${u.name}:x:${user.uid}:${user.gid}::${homeIn(u.name)}:${SHELL}`;
    }),
    `nobody:x:65534:65534:nobody:/nonexistent:${NOLOGIN}`,
  ];
  const group = [
    "root:x:0:",
    `atrium-hub:x:${HUB_UID}:`,
    ...platform.users.map((u) => `${u.name}:x:${userOf(placement, u.name).gid}:`),
    ...platform.groups.map((g) => `${g.name}:x:${groupOf(placement, g.name).gid}:${g.members.join(",")}`),
    "nogroup:x:65534:",
  ];
  return { passwd: `${passwd.join("\n")}\n`, group: `${group.join("\n")}\n` };
}

/** The pod files plus the build account, in every group (its own first). */
export function renderEnvsAccountFiles(
  platform: Platform,
  placement: KubernetesPlacement,
): Record<(typeof ENVS_ACCOUNT_FILES)[keyof typeof ENVS_ACCOUNT_FILES], string> {
  const { passwd, group } = renderAccountFiles(platform, placement);
  const build = `${BUILD_ACCOUNT}:x:${BUILD_UID}:${BUILD_UID}:environment builds:/nonexistent:${NOLOGIN}`;
  const everyGroup = new Set([...platform.users.map((u) => u.name), ...platform.groups.map((g) => g.name)]);
  const groups = group
    .trimEnd()
    .split("\n")
    .map((line) => {
      const [name = "", , , members = ""] = line.split(":");
      if (!everyGroup.has(name)) return line;
      return `${line}${members === "" ? "" : ","}${BUILD_ACCOUNT}`;
    });
  return {
    [ENVS_ACCOUNT_FILES.passwd]: `${passwd}${build}\n`,
    [ENVS_ACCOUNT_FILES.group]: `${[...groups, `${BUILD_ACCOUNT}:x:${BUILD_UID}:`].join("\n")}\n`,
  } as Record<(typeof ENVS_ACCOUNT_FILES)[keyof typeof ENVS_ACCOUNT_FILES], string>;
}
