# The host side of the cluster's network: the pod bridge, the service route, the sysctls the
# daemons change, and the rules that keep pods' traffic on the machine (sourced).

# Host sysctls the cluster needs or its daemons change; saved before up, restored by down.
SYSCTLS="net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables
net.ipv4.conf.all.route_localnet vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
kernel.keys.root_maxkeys kernel.keys.root_maxbytes"
SYSCTLS_SAVED=${SYSCTLS_SAVED:-$STATE/sysctl-before}
NFT_TABLES_SAVED=$STATE/nft-tables-before
# Host folders the daemons make outside our own (CNI's cache, kubelet's log links, netns mounts):
# those that were not there before up are removed by down.
HOST_PATHS="/var/lib/cni /var/log/containers /var/log/pods /var/lib/kubelet /etc/cni /opt/cni /run/containerd /run/netns"
HOST_PATHS_NEW=${HOST_PATHS_NEW:-$STATE/host-paths-new}
# Chains of the cluster: kubelet and kube-proxy (KUBE-*), kube-router, and ours (ATRIUM-TC-*).
CHAIN_PATTERN='^(KUBE-|ATRIUM-TC-)'

save_host_state() {
  [ -f "$SYSCTLS_SAVED" ] && return 0
  local s
  for s in $SYSCTLS; do echo "$s=$(sysctl -n "$s")"; done >"$SYSCTLS_SAVED.tmp"
  nft list tables >"$NFT_TABLES_SAVED"
  for s in $HOST_PATHS; do [ -e "$s" ] || echo "$s"; done >"$HOST_PATHS_NEW"
  mv "$SYSCTLS_SAVED.tmp" "$SYSCTLS_SAVED"
}

restore_sysctls() {
  [ -f "$SYSCTLS_SAVED" ] || return 0
  local line
  while read -r line; do sysctl -qw "$line" || log "could not restore $line"; done <"$SYSCTLS_SAVED"
}

setup_bridge() {
  ip link show "$BRIDGE" >/dev/null 2>&1 || ip link add "$BRIDGE" type bridge
  ip addr replace "$NODE_IP/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  # No dummy link type in this kernel: the service range is routed onto the bridge instead.
  ip route replace "$SERVICE_CIDR" dev "$BRIDGE" src "$NODE_IP"
  sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1
  share_netns_dir
}

# Pods talk to each other and to the API server, nothing else: forwarding between the bridge and
# any other interface is dropped, and of the host's own ports pods reach only the API server. In
# the mangle table, so that no ACCEPT in filter (kube-proxy's, kube-router's) can let it through.
setup_pod_firewall() {
  iptables -t mangle -N ATRIUM-TC-FORWARD 2>/dev/null || iptables -t mangle -F ATRIUM-TC-FORWARD
  iptables -t mangle -A ATRIUM-TC-FORWARD -i "$BRIDGE" ! -o "$BRIDGE" -j DROP
  iptables -t mangle -A ATRIUM-TC-FORWARD ! -i "$BRIDGE" -o "$BRIDGE" -j DROP
  iptables -t mangle -C FORWARD -j ATRIUM-TC-FORWARD 2>/dev/null || iptables -t mangle -I FORWARD -j ATRIUM-TC-FORWARD
  iptables -t mangle -N ATRIUM-TC-INPUT 2>/dev/null || iptables -t mangle -F ATRIUM-TC-INPUT
  iptables -t mangle -A ATRIUM-TC-INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN
  iptables -t mangle -A ATRIUM-TC-INPUT -d "$NODE_IP" -p tcp --dport 6443 -j RETURN
  iptables -t mangle -A ATRIUM-TC-INPUT -j DROP
  iptables -t mangle -C INPUT -i "$BRIDGE" -j ATRIUM-TC-INPUT 2>/dev/null || iptables -t mangle -I INPUT -i "$BRIDGE" -j ATRIUM-TC-INPUT
}

# cluster_chains CMD TABLE: the cluster's chains in one table.
cluster_chains() {
  "$1" -t "$2" -S 2>/dev/null | awk '$1 == "-N" {print $2}' | grep -E "$CHAIN_PATTERN" || true
}

# Deletes the cluster's chains and every rule that jumps to them; nothing else is touched.
delete_cluster_chains() {
  local cmd table rules rule chain
  for cmd in iptables ip6tables; do
    for table in filter nat mangle raw; do
      rules=$("$cmd" -t "$table" -S 2>/dev/null | grep -E '^-A ' | grep -vE '^-A (KUBE-|ATRIUM-TC-)' |
        grep -E -- '-j (KUBE-|ATRIUM-TC-)' | sed 's/^-A /-D /' || true)
      while read -r rule; do
        [ -n "$rule" ] || continue
        eval "$cmd -t $table $rule" || log "could not delete $cmd -t $table $rule"
      done <<<"$rules"
      for chain in $(cluster_chains "$cmd" "$table"); do "$cmd" -t "$table" -F "$chain"; done
      for chain in $(cluster_chains "$cmd" "$table"); do "$cmd" -t "$table" -X "$chain" || true; done
    done
  done
}

# iptables-nft made nftables tables (ip filter, ip6 nat, ...) that were not there before up: drop
# them when they hold no rule any more.
delete_empty_xtables_tables() {
  local family table
  for family in ip ip6; do
    for table in filter nat mangle raw; do
      nft list table "$family" "$table" >/dev/null 2>&1 || continue
      grep -qx "table $family $table" "$NFT_TABLES_SAVED" 2>/dev/null && continue
      if ! nft list table "$family" "$table" | grep -qvE '^\s*(table|chain|type|\}|$)'; then
        nft delete table "$family" "$table"
      fi
    done
  done
}

# Removes the host folders the cluster made (see HOST_PATHS); links into our state go in any case.
remove_host_paths() {
  local p
  find /var/log/containers -maxdepth 1 -type l -lname "$STATE/*" -delete 2>/dev/null || true
  [ -f "$HOST_PATHS_NEW" ] || return 0
  while read -r p; do
    [ -n "$p" ] && [ -e "$p" ] || continue
    findmnt -rn -o TARGET | grep -q "^$p" && { log "$p still has mounts: left in place"; continue; }
    rm -rf "$p"
  done <"$HOST_PATHS_NEW"
}

# containerd bind-mounts pods' network namespaces under /run/netns. `ip netns add` (anyone's) turns
# /run/netns into a bind mount of itself when it is not a mount point yet, which hides those mounts
# and leaves pods that cannot be removed ("unlinkat ...: device or resource busy"). So make it that
# mount point first, as ip does; down undoes it when it was ours.
NETNS_MOUNT_OURS=$STATE/netns-mount-ours
share_netns_dir() {
  mkdir -p /run/netns
  if ! mountpoint -q /run/netns; then
    mount --bind /run/netns /run/netns
    touch "$NETNS_MOUNT_OURS"
  fi
  mount --make-shared /run/netns
}

unshare_netns_dir() {
  [ -f "$NETNS_MOUNT_OURS" ] || return 0
  if findmnt -rn -o TARGET | grep -q '^/run/netns/'; then
    log "/run/netns still holds network namespaces (not the cluster's): its mount is left in place"
    return 0
  fi
  umount /run/netns
  rm -f "$NETNS_MOUNT_OURS"
}

teardown_bridge() {
  ip route del "$SERVICE_CIDR" dev "$BRIDGE" 2>/dev/null || true
  ip link del "$BRIDGE" 2>/dev/null || true
}
