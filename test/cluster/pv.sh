#!/usr/bin/env bash
# pv.sh NAME [SIZE]: a static PersistentVolume on the test node (a hostPath folder under
# /var/lib/atrium-test-cluster/volumes/NAME, ReadWriteOnce and ReadWriteMany, class
# atrium-test-static). The folder is root's, 0755: the platform prepares what is inside.
. "$(dirname "$0")/lib.sh"
. "$CLUSTER_DIR/cluster-env.sh"
require_root
name=${1:?usage: pv.sh NAME [SIZE]}
size=${2:-10Gi}
mkdir -p "$VOLUMES/$name"
kubectl_admin apply -f - <<YAML
apiVersion: v1
kind: PersistentVolume
metadata:
  name: $name
  labels: {atrium.test/static: "true"}
spec:
  capacity: {storage: $size}
  accessModes: [ReadWriteOnce, ReadWriteMany]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: atrium-test-static
  hostPath: {path: $VOLUMES/$name, type: Directory}
YAML
