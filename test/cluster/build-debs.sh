#!/usr/bin/env bash
# Installs the Debian packages the test cluster runs on (etcd, containerd, runc, CNI plugins,
# iptables, ...). Services are not started by the packages: up.sh runs the daemons itself.
. "$(dirname "$0")/lib.sh"
require_root

packages="etcd-server containerd runc containernetworking-plugins debootstrap iptables ipset conntrack gcc libc6-dev jq curl openssl"
missing=$(for p in $packages; do dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || echo "$p"; done)
[ -z "$missing" ] && { log "Debian packages: all installed"; exit 0; }

# Keep package scripts from starting etcd or containerd: this machine has no init system and up.sh
# owns the daemons. A policy-rc.d that was already there is left alone.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  at_exit rm -f /usr/sbin/policy-rc.d
fi

log "installing: $(echo $missing)"
# shellcheck disable=SC2086
if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing; then
  apt-get update
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
fi
