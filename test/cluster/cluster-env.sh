# The running cluster's fixed names, addresses and paths (sourced after lib.sh).
NODE_NAME=atrium-test
BRIDGE=atrium0
POD_CIDR=10.244.0.0/24
CLUSTER_CIDR=10.244.0.0/16
NODE_IP=10.244.0.1
SERVICE_CIDR=10.96.0.0/16
API_SERVICE_IP=10.96.0.1
DNS_SERVICE_IP=10.96.0.10
# Loopback/bridge ports the cluster listens on; up.sh refuses to start when another process has one.
CLUSTER_PORTS="2379 2380 6443 10248 10249 10250 10256 10257 10259"

RUN=/run/atrium-test-cluster
PKI=$STATE/pki
LOGS=$STATE/logs
PIDS=$RUN/pids
KUBECONFIG_ADMIN=$STATE/kubeconfig
CONTAINERD_SOCK=$RUN/containerd.sock
VOLUMES=$STATE/volumes
# containerd's image store outlives the cluster, like the build cache: a second up imports nothing.
CONTAINERD_ROOT=$CACHE/containerd-root

K8S_BIN=$CACHE/kubernetes-$KUBERNETES_VERSION/bin
CRICTL=$CACHE/crictl-$CRICTL_VERSION/bin/crictl
KUBE_ROUTER=$CACHE/kube-router-$KUBE_ROUTER_VERSION/bin/kube-router

kubectl_admin() { kubectl --kubeconfig "$KUBECONFIG_ADMIN" "$@"; }
crictl_local() { "$CRICTL" --config "$(dirname "$CRICTL")/crictl.yaml" --runtime-endpoint "unix://$CONTAINERD_SOCK" --image-endpoint "unix://$CONTAINERD_SOCK" "$@"; }
ctr_local() { ctr --address "$CONTAINERD_SOCK" --namespace k8s.io "$@"; }
