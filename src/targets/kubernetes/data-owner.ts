/**
 * The init container that makes a service's data folder its own (0700) before it starts:
 * fsGroup does not reach every kind of volume (hostPath, some local and NFS ones), so
 * the folder is chowned by a root container that may do nothing else.
 */
import type { Container } from "./objects.js";

type VolumeMount = { name: string; mountPath: string; subPath?: string };

export function dataOwnerContainer(image: string, uid: number, mount: VolumeMount): Container {
  const dir = mount.mountPath;
  return {
    name: "db-owner",
    image,
    imagePullPolicy: "IfNotPresent",
    command: ["/bin/sh", "-c", `chown ${uid}:${uid} ${dir} && chmod 0700 ${dir}`],
    securityContext: {
      runAsUser: 0,
      runAsNonRoot: false,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"], add: ["CHOWN", "FOWNER"] },
    },
    volumeMounts: [mount],
  };
}
