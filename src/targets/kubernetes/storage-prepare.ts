/**
 * The storage-prepare Job: makes the shared volume's folders and gives them their
 * owners and modes, once, out of band, so no user pod needs a root step and nothing is
 * chmod 777: home/<user> 0700 user:own group, shared/<group> 2770 root:group (setgid,
 * so files made there belong to the group), envs/ for the environments (the hub and
 * user envs built there by the hub's account, which owns envs/).
 *
 * Must stay true: its spec, and so its name, changes only when the users, groups or
 * their ids change (or the image it runs), so deploy runs it only then; removed users'
 * and groups' folders are left as they are (data is never deleted); a symbolic link
 * where a folder should be is refused, never followed.
 */
import { posix } from "node:path";
import { hashOf } from "../../lib/hash.js";
import { metaOf, type RenderInput } from "./meta.js";
import type { RenderedObject } from "./objects.js";
import { instanceLabels, VOLUME_DIRS } from "./placement.js";
import { HUB_UID, MANAGED_DIR, VOLUME_MOUNT } from "./pod-paths.js";

export const STORAGE_PREPARE_COMPONENT = "storage-prepare";
export const SPEC_HASH_ANNOTATION = "atrium.dev/spec-hash";

interface Folder {
  path: string;
  owner: string;
  mode: string;
}

/** Every folder the job makes, in the order it makes them. */
export function volumeFolders(input: RenderInput): Folder[] {
  const { platform, placement } = input;
  const root = (path: string): Folder => ({ path, owner: "0:0", mode: "0755" });
  const folders = [
    root(VOLUME_DIRS.home),
    root(VOLUME_DIRS.shared),
    // the environment service's, as root (it keeps each namespace's folder to its readers);
    // made before envs/ is the hub's: the job may not write in a folder it does not own
    root(posix.join(placement.envsDir, MANAGED_DIR)),
    { path: placement.envsDir, owner: `${HUB_UID}:${HUB_UID}`, mode: "0755" },
  ];
  for (const u of platform.users) {
    const user = placement.users.get(u.name);
    if (user !== undefined) folders.push({ path: user.home, owner: `${user.uid}:${user.gid}`, mode: "0700" });
  }
  for (const g of platform.groups) {
    const group = placement.groups.get(g.name);
    if (group?.folder) folders.push({ path: group.folder, owner: `0:${group.gid}`, mode: "2770" });
  }
  return folders;
}

export function prepareScript(input: RenderInput): string {
  const lines = [
    "set -eu",
    `cd ${VOLUME_MOUNT}`,
    "own() {",
    '  if [ -L "$1" ]; then echo "$1 is a symbolic link; refusing to follow it" >&2; exit 1; fi',
    '  mkdir -p "$1" && chown -h "$2" "$1" && chmod "$3" "$1"',
    "}",
    ...volumeFolders(input).map((f) => `own ${f.path} ${f.owner} ${f.mode}`),
  ];
  return `${lines.join("\n")}\n`;
}

/** The job's name: its spec's hash, since a Job's pod template cannot change once made. */
export function storagePrepareName(input: RenderInput): string {
  return `${input.placement.names.storagePrepare}-${storagePrepareHash(input)}`;
}

export function storagePrepareHash(input: RenderInput): string {
  return hashOf({ script: prepareScript(input), image: input.placement.block.images.user }).slice(0, 10);
}

export function renderStoragePrepare(input: RenderInput): RenderedObject[] {
  const { placement } = input;
  const metadata = metaOf(input, storagePrepareName(input), STORAGE_PREPARE_COMPONENT);
  metadata.annotations = { [SPEC_HASH_ANNOTATION]: storagePrepareHash(input) };
  return [
    {
      wave: "workloads",
      object: {
        apiVersion: "batch/v1",
        kind: "Job",
        metadata,
        spec: {
          backoffLimit: 3,
          template: {
            metadata: { labels: instanceLabels(input.platform.project.name, STORAGE_PREPARE_COMPONENT) },
            spec: {
              restartPolicy: "Never",
              automountServiceAccountToken: false,
              securityContext: { runAsUser: 0, runAsGroup: 0, seccompProfile: { type: "RuntimeDefault" } },
              containers: [
                {
                  name: "prepare",
                  image: placement.block.images.user,
                  imagePullPolicy: "IfNotPresent",
                  command: ["/bin/sh", "-c", prepareScript(input)],
                  securityContext: {
                    allowPrivilegeEscalation: false,
                    // own the folders, set their modes, keep setgid on folders of groups root is not in
                    capabilities: { drop: ["ALL"], add: ["CHOWN", "FOWNER", "FSETID"] },
                  },
                  volumeMounts: [{ name: "shared", mountPath: VOLUME_MOUNT }],
                },
              ],
              volumes: [
                { name: "shared", persistentVolumeClaim: { claimName: placement.names.sharedClaim } },
              ],
            },
          },
        },
      },
    },
  ];
}
