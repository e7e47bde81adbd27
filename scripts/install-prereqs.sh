#!/usr/bin/env bash
# Installs the Debian packages Atrium needs (and, with --test, those its tests need),
# only those missing. Run as root.
set -euo pipefail
need=(acl python3 python3-venv openssl openssh-sftp-server nftables)
if [ "${1:-}" = "--test" ]; then need+=(chromium openssh-client openssh-server sshpass rsync); fi
missing=()
for p in "${need[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then echo "missing packages: ${missing[*]}; install them as root" >&2; exit 1; fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
