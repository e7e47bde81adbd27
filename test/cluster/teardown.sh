# The steps of down.sh that clean what the daemons left (sourced).

# Pods go through the CRI while containerd still runs, so that CNI removes their network
# namespaces and veths and containerd unmounts their root filesystems.
remove_pods() {
  [ -x "$CRICTL" ] || return 0
  if ! is_running containerd && [ -f "$STATE/containerd/config.toml" ]; then
    # After a crash: containerd again, on the same state, finds its shims and can remove the pods.
    log "containerd is not running: starting it to remove the pods"
    start_containerd
  fi
  if is_running containerd; then
    crictl_local rmp -fa >/dev/null || log "crictl rmp -fa failed; cleaning up by hand"
  fi
}

# The cluster's processes: binaries from the cache, etcd and containerd on our state, our shims.
cluster_processes() {
  pgrep -a -f "^($CACHE/[^/ ]+/bin/|etcd .*$STATE|containerd .*$STATE|\S*containerd-shim\S* .*-address $CONTAINERD_SOCK)" || true
}

# Processes of the cluster that outlived their pid files (a crash, a lost /run): killed by pid.
stop_leftover_processes() {
  local pid cmd
  while read -r pid cmd; do
    [ -n "$pid" ] || continue
    log "stopping leftover process $pid: $cmd"
    kill -9 "$pid" 2>/dev/null || true
  done <<<"$(cluster_processes)"
}

cluster_mounts() {
  findmnt -rn -o TARGET | grep -E "^($STATE|$RUN|/run/netns/cni-|/var/run/netns/cni-)" | sort -r | uniq || true
}

unmount_cluster() {
  local m
  for m in $(cluster_mounts); do umount "$m" 2>/dev/null || umount -l "$m" || log "could not unmount $m"; done
}

cluster_cgroups() {
  find /sys/fs/cgroup -mindepth 2 -maxdepth 2 -type d -name 'kubepods*' 2>/dev/null || true
}

remove_cgroups() {
  local top pid
  for top in $(cluster_cgroups); do
    # Pods' processes that outlived their shims (a crash): nothing else lives in kubepods.
    for pid in $(find "$top" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u); do
      log "killing leftover pod process $pid"
      kill -9 "$pid" 2>/dev/null || true
    done
    find "$top" -depth -type d -exec rmdir {} \; 2>/dev/null || log "could not remove all of $top"
  done
}

kube_router_ipsets() { ipset list -n 2>/dev/null | grep -E '^(KUBE-|kube-router)' || true; }

clean_firewall() {
  [ -x "$K8S_BIN/kube-proxy" ] && "$K8S_BIN/kube-proxy" --cleanup >/dev/null 2>&1 || true
  [ -x "$KUBE_ROUTER" ] && "$KUBE_ROUTER" --cleanup-config >/dev/null 2>&1 || true
  delete_cluster_chains
  local set
  for set in $(kube_router_ipsets); do ipset destroy "$set" 2>/dev/null || log "could not destroy ipset $set"; done
}

remove_netns() {
  local ns
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep '^cni-' || true); do ip netns del "$ns"; done
}
