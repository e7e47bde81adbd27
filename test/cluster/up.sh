#!/usr/bin/env bash
# Starts the single-node test cluster from what build.sh cached: etcd, the control plane,
# containerd, the kubelet, kube-proxy, kube-router's NetworkPolicy firewall and CoreDNS. Waits
# until the node is Ready and DNS answers; prints how long each phase took. Already up: says so.
# The admin kubeconfig is /var/lib/atrium-test-cluster/kubeconfig (0600).
. "$(dirname "$0")/lib.sh"
. "$CLUSTER_DIR/cluster-env.sh"
. "$CLUSTER_DIR/daemons.sh"
. "$CLUSTER_DIR/pki.sh"
. "$CLUSTER_DIR/configs.sh"
. "$CLUSTER_DIR/host-net.sh"
. "$CLUSTER_DIR/control-plane.sh"
require_root
start=$SECONDS

running=0
for d in $DAEMONS; do is_running "$d" && running=$((running + 1)); done
if [ "$running" = "$(echo $DAEMONS | wc -w)" ] && node_ready; then
  log "the test cluster is already up (kubeconfig: $KUBECONFIG_ADMIN)"
  exit 0
fi
if [ "$running" != 0 ] || [ -d "$STATE" ] || ip link show "$BRIDGE" >/dev/null 2>&1; then
  log "found a partly started or crashed test cluster: tearing it down first"
  bash "$CLUSTER_DIR/down.sh"
fi

for f in "$K8S_BIN/kubelet" "$CRICTL" "$KUBE_ROUTER" "$CACHE/image-python.current"; do
  [ -e "$f" ] || die "$f is missing: run test/cluster/build.sh first"
done
busy=$(ss -Htln | awk '{print $4}' | grep -oE '[0-9]+$' | sort -u)
for port in $CLUSTER_PORTS; do
  ! grep -qx "$port" <<<"$busy" || die "port $port is in use by another process (ss -ltnp 'sport = :$port'); the test cluster needs it"
done

# From here on a failure leaves a partial cluster: say how to clean it.
at_exit '[ "$EXIT_STATUS" = 0 ] || echo "the test cluster did not come up; logs: $LOGS; clean up with test/cluster/down.sh" >&2'
mkdir -p "$STATE" "$RUN"
chmod 0700 "$STATE"
phase "host state saved" save_host_state
phase "certificates" make_pki
phase "configs" eval 'write_containerd_config; write_kubelet_config; write_kube_proxy_config; write_audit_policy'
phase "bridge and pod firewall" eval 'setup_bridge; setup_pod_firewall'
phase "containerd" start_containerd
phase "image import" import_images
phase "etcd" start_etcd
phase "kube-apiserver" start_apiserver
phase "controller-manager and scheduler" start_controllers
phase "kubelet, kube-proxy" start_node
phase "node Ready" wait_for "node $NODE_NAME" 120 node_ready
phase "kube-router (NetworkPolicy firewall)" start_policy_controller
phase "addons (CoreDNS, storage class)" start_addons
phase "CoreDNS ready" wait_for CoreDNS 120 dns_ready
all_running
log "test cluster up in $((SECONDS - start)) s; KUBECONFIG=$KUBECONFIG_ADMIN"
