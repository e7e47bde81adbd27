# Starting each daemon of the cluster with its flags (sourced by up.sh).

start_containerd() {
  # crictl reads its config next to its binary: plain `crictl` then talks to this containerd.
  printf 'runtime-endpoint: unix://%s\nimage-endpoint: unix://%s\n' "$CONTAINERD_SOCK" "$CONTAINERD_SOCK" \
    >"$(dirname "$CRICTL")/crictl.yaml"
  start_daemon containerd containerd --config "$STATE/containerd/config.toml"
  wait_for containerd 30 ctr --address "$CONTAINERD_SOCK" version
}

# Imports each built image unless containerd's store already has that very tar's image.
import_images() {
  local image tar name
  mkdir -p "$CONTAINERD_ROOT/atrium-imported"
  for image in $(jq -r 'keys[]' "$CLUSTER_DIR/images.json"); do
    tar=$(cat "$CACHE/image-$image.current" 2>/dev/null) || die "image $image is not built: run build.sh"
    name=$(jq -r ".$image.image" "$CLUSTER_DIR/images.json")
    if [ "$(cat "$CONTAINERD_ROOT/atrium-imported/$image" 2>/dev/null)" = "$tar" ] &&
      ctr_local images ls -q | grep -qxF "$name"; then
      continue
    fi
    ctr_local images import "$tar" >/dev/null
    echo "$tar" >"$CONTAINERD_ROOT/atrium-imported/$image"
  done
  ctr_local images label "$(jq -r .pause.image "$CLUSTER_DIR/images.json")" io.cri-containerd.pinned=pinned >/dev/null
}

start_etcd() {
  start_daemon etcd etcd --name "$NODE_NAME" --data-dir "$STATE/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster "$NODE_NAME=http://127.0.0.1:2380" --listen-metrics-urls "" --log-level warn
  wait_for etcd 30 curl -sf http://127.0.0.1:2379/health
}

start_apiserver() {
  start_daemon kube-apiserver "$K8S_BIN/kube-apiserver" \
    --etcd-servers=http://127.0.0.1:2379 \
    --bind-address="$NODE_IP" --advertise-address="$NODE_IP" --secure-port=6443 \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --client-ca-file="$PKI/ca.crt" \
    --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority="$PKI/ca.crt" --kubelet-preferred-address-types=InternalIP \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
    --allow-privileged=true --profiling=false --event-ttl=30m \
    --audit-policy-file="$STATE/apiserver/audit-policy.yaml" --audit-log-path="$AUDIT_LOG" \
    --audit-log-maxsize=50 --audit-log-maxbackup=1
  wait_for kube-apiserver 120 kubectl_admin get --raw /readyz
}

start_controllers() {
  start_daemon kube-controller-manager "$K8S_BIN/kube-controller-manager" \
    --kubeconfig="$PKI/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$PKI/controller-manager.kubeconfig" \
    --authorization-kubeconfig="$PKI/controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --leader-elect=false --use-service-account-credentials=true \
    --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
    --allocate-node-cidrs=true --cluster-cidr="$CLUSTER_CIDR" --node-cidr-mask-size=24 \
    --service-cluster-ip-range="$SERVICE_CIDR" --profiling=false
  start_daemon kube-scheduler "$K8S_BIN/kube-scheduler" \
    --kubeconfig="$PKI/scheduler.kubeconfig" \
    --authentication-kubeconfig="$PKI/scheduler.kubeconfig" \
    --authorization-kubeconfig="$PKI/scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --leader-elect=false --profiling=false
}

start_node() {
  start_daemon kubelet "$K8S_BIN/kubelet" --config="$STATE/kubelet/config.yaml" \
    --kubeconfig="$PKI/kubelet.kubeconfig" --root-dir="$STATE/kubelet" \
    --cert-dir="$STATE/kubelet/pki" --node-ip="$NODE_IP" --hostname-override="$NODE_NAME"
  start_daemon kube-proxy "$K8S_BIN/kube-proxy" --config="$STATE/kube-proxy/config.yaml"
}

# After the node is registered: kube-router finds its node by name at start and exits otherwise.
start_policy_controller() {
  # Only kube-router's NetworkPolicy firewall: routing is the bridge's, services are kube-proxy's.
  start_daemon kube-router "$KUBE_ROUTER" --kubeconfig="$PKI/kube-router.kubeconfig" \
    --hostname-override="$NODE_NAME" --run-firewall=true --run-router=false \
    --run-service-proxy=false --enable-cni=false --enable-ipv4=true --enable-ipv6=false \
    --service-cluster-ip-range="$SERVICE_CIDR" --health-port=0 --metrics-port=0
  local i
  for i in $(seq 1 120); do
    is_running kube-router || die "kube-router exited: $(tail -n 3 "$LOGS/kube-router.log")"
    iptables -t filter -S KUBE-ROUTER-FORWARD >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  die "kube-router made no firewall chains in 60 s (log: $LOGS/kube-router.log)"
}

# Every daemon still runs (one that exits right after starting is caught here).
all_running() {
  local d
  for d in $DAEMONS; do is_running "$d" || die "$d is not running: $(tail -n 3 "$LOGS/$d.log")"; done
}

DAEMONS="containerd etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kube-router"

node_ready() {
  kubectl_admin get node "$NODE_NAME" \
    -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' | grep -qx True
}

start_addons() {
  kubectl_admin apply -f "$CLUSTER_DIR/manifests/" >/dev/null
}

dns_ready() {
  kubectl_admin -n kube-system rollout status deployment/coredns --timeout=2s
}
