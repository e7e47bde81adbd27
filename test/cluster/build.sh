#!/usr/bin/env bash
# Builds everything the test cluster needs, once per machine: each piece is cached by version in
# /var/cache/atrium-test-cluster/<component>-<version>/ (a .done stamp marks it complete), so a
# second run only checks the stamps. Prints how long each piece took.
. "$(dirname "$0")/lib.sh"
require_root
mkdir -p "$CACHE"
start=$SECONDS

phase "Debian packages" bash "$CLUSTER_DIR/build-debs.sh"
cached "kubernetes-$KUBERNETES_VERSION" bash "$CLUSTER_DIR/build-kubernetes.sh"
cached "coredns-$COREDNS_VERSION" bash "$CLUSTER_DIR/build-go-tool.sh" "github.com/coredns/coredns@$COREDNS_VERSION"
cached "crictl-$CRICTL_VERSION" bash "$CLUSTER_DIR/build-go-tool.sh" "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION"
cached "kube-router-$KUBE_ROUTER_VERSION" bash "$CLUSTER_DIR/build-go-tool.sh" \
  "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router@$KUBE_ROUTER_VERSION"
# The binaries are cached: Go's build cache (GBs) is not needed any more; the module cache stays.
rm -rf "$GOCACHE"
phase "images" bash "$CLUSTER_DIR/build-images.sh"
log "build complete in $((SECONDS - start)) s"
