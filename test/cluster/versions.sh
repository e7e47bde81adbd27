# Pinned versions of everything the test cluster builds. Changing one rebuilds only that piece
# (each is cached in $CACHE/<component>-<version>/).
KUBERNETES_VERSION=v1.33.13
KUBERNETES_STAGING_VERSION=v0.33.13
COREDNS_VERSION=v1.12.4
CRICTL_VERSION=v1.34.0
KUBE_ROUTER_VERSION=v2.1.0
DEBIAN_SUITE=bookworm
