# Shared paths and helpers for the test cluster scripts (sourced, not run).
set -euo pipefail

CLUSTER_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.sh
. "$CLUSTER_DIR/versions.sh"

CACHE=${ATRIUM_CLUSTER_CACHE:-/var/cache/atrium-test-cluster}
STATE=${ATRIUM_CLUSTER_STATE:-/var/lib/atrium-test-cluster}
export PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export GOMODCACHE=$CACHE/go/mod GOCACHE=$CACHE/go/build GOFLAGS="-p=2 -modcacherw" GOTOOLCHAIN=local

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Commands to run when the script exits (add with at_exit CMD); a failure names the phase it was in.
EXIT_HOOKS=()
CURRENT_PHASE=
at_exit() { EXIT_HOOKS+=("$*"); }
on_exit() {
  local rc=$? hook
  EXIT_STATUS=$rc
  for hook in "${EXIT_HOOKS[@]}"; do eval "$hook" || true; done
  if [ "$rc" != 0 ] && [ -n "$CURRENT_PHASE" ]; then
    printf 'error: %s failed (exit %s); see the messages above\n' "$CURRENT_PHASE" "$rc" >&2
  fi
}
trap on_exit EXIT

# phase NAME CMD...: run CMD (errexit stays on inside it), print how long it took.
phase() {
  local phase_name=$1 phase_start=$SECONDS phase_outer=$CURRENT_PHASE
  shift
  CURRENT_PHASE=$phase_name
  log "$phase_name ..."
  "$@"
  log "$phase_name: $((SECONDS - phase_start)) s"
  CURRENT_PHASE=$phase_outer
}

# cached COMPONENT-VERSION CMD...: run CMD once per version; CMD builds into $OUT and the stamp
# file $CACHE/COMPONENT-VERSION/.done marks it finished. A second call returns at once.
cached() {
  local cache_key=$1
  shift
  OUT=$CACHE/$cache_key
  export OUT
  if [ -f "$OUT/.done" ]; then
    log "$cache_key: cached in $OUT"
    return 0
  fi
  rm -rf "$OUT"
  mkdir -p "$OUT"
  phase "$cache_key" "$@"
  date -u +%FT%TZ >"$OUT/.done"
}

require_root() { [ "$(id -u)" = 0 ] || die "run as root (the test cluster runs real daemons)"; }
