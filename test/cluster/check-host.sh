#!/usr/bin/env bash
# Lists what the test cluster could have left on the host (processes, network namespaces, veths,
# the bridge and routes, mounts, cgroups, iptables chains, ipsets, changed sysctls). Exits non-zero
# when anything is left.
. "$(dirname "$0")/lib.sh"
. "$CLUSTER_DIR/cluster-env.sh"
. "$CLUSTER_DIR/daemons.sh"
. "$CLUSTER_DIR/host-net.sh"
. "$CLUSTER_DIR/teardown.sh"
left=0
report() {
  local what=$1 found=$2
  if [ -n "$found" ]; then
    printf 'leftover %s:\n%s\n' "$what" "$found" >&2
    left=1
  else
    printf 'clean: %s\n' "$what" >&2
  fi
}
report processes "$(cluster_processes)"
report "network namespaces" "$(ip netns list 2>/dev/null | grep '^cni-' || true)"
report "veths and bridge" "$(ip -br link | grep -E "^($BRIDGE|veth[0-9a-f]{8})[@ ]" || true)$(ip -br link show master "$BRIDGE" 2>/dev/null || true)"
report routes "$(ip route | grep -E "$BRIDGE|^${SERVICE_CIDR%/*}|^${POD_CIDR%/*}" || true)"
report mounts "$(cluster_mounts)"
report cgroups "$(cluster_cgroups)"
report "iptables chains" "$(for c in iptables ip6tables; do for t in filter nat mangle raw; do cluster_chains $c $t | sed "s/^/$c -t $t /"; done; done)"
report ipsets "$(kube_router_ipsets)"
if [ -f "$SYSCTLS_SAVED" ]; then
  report sysctls "$(while IFS== read -r k v; do [ "$(sysctl -n "$k")" = "$v" ] || echo "$k=$(sysctl -n "$k") (was $v)"; done <"$SYSCTLS_SAVED")"
fi
report "state folders" "$(ls -d "$STATE" "$RUN" 2>/dev/null || true)"
report "host folders" "$(find /var/log/containers -maxdepth 1 -lname "$STATE/*" 2>/dev/null
  [ -f "$HOST_PATHS_NEW" ] && while read -r p; do [ -n "$p" ] && [ -e "$p" ] && echo "$p"; done <"$HOST_PATHS_NEW")"
exit $left
