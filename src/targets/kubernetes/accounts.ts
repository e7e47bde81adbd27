/**
 * The passwd and group files of the platform's pods, generated: the system's few
 * accounts, the hub's, each user (home /home/<name>, their own group with their uid
 * as gid) and each group with its members. Mounted read-only over /etc/passwd and
 * /etc/group in user pods, so `id`, `ls -l` and shells show names. Pure.
 */
import type { Platform } from "../../model/platform.js";
import { groupOf, type KubernetesPlacement, userOf } from "./placement.js";
import { HUB_DATA_DIR, HUB_UID, homeIn } from "./pod-paths.js";

export const ACCOUNT_FILES = ["passwd", "group"] as const;

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
