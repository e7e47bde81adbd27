#!/usr/bin/env bash
# Stops the test cluster and leaves the host as it was found, in the order that leaves nothing
# behind: node agents, control plane, pods removed while containerd still runs, containerd,
# mounts, cgroups, iptables chains and ipsets, bridge and route, sysctls. Then checks for leftovers
# and exits non-zero if any remain. Safe after a crash or a partial up, and when nothing runs.
. "$(dirname "$0")/lib.sh"
. "$CLUSTER_DIR/cluster-env.sh"
. "$CLUSTER_DIR/daemons.sh"
. "$CLUSTER_DIR/host-net.sh"
. "$CLUSTER_DIR/control-plane.sh"
. "$CLUSTER_DIR/teardown.sh"
require_root
start=$SECONDS

phase "stop kube-proxy, kubelet, kube-router" eval 'stop_daemon kube-proxy; stop_daemon kubelet; stop_daemon kube-router'
# The API server drains its watches for a long time on TERM; its state is deleted anyway.
phase "stop control plane" eval 'stop_daemon kube-scheduler; stop_daemon kube-controller-manager; stop_daemon kube-apiserver 5; stop_daemon etcd'
phase "remove pods" remove_pods
phase "stop containerd" eval 'stop_daemon containerd; stop_leftover_processes'
phase "unmount" unmount_cluster
phase "remove cgroups" remove_cgroups
phase "remove iptables chains and ipsets" clean_firewall
phase "remove bridge, route, netns" eval 'teardown_bridge; remove_netns; unshare_netns_dir'
phase "restore sysctls and host folders" eval 'restore_sysctls; delete_empty_xtables_tables; remove_host_paths'
saved=$(mktemp -d)
at_exit rm -rf "$saved"
cp "$SYSCTLS_SAVED" "$saved/sysctls" 2>/dev/null || true
cp "$HOST_PATHS_NEW" "$saved/paths" 2>/dev/null || true
phase "remove state" eval 'rm -rf "$STATE" "$RUN"'
log "test cluster down in $((SECONDS - start)) s"
SYSCTLS_SAVED=$saved/sysctls HOST_PATHS_NEW=$saved/paths bash "$CLUSTER_DIR/check-host.sh"
