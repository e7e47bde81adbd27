#!/usr/bin/env bash
# The test command (`npm test`): installs what the tests need, then runs the
# formatter/linter check, unit tests, the hub glue's Python tests and the
# end-to-end tests, lists what was skipped (with its reason) and what failed, and
# ends with one line: "N passed, N failed, N skipped" (scripts/test-lib.sh counts).
#   ATRIUM_E2E=0      skip the end-to-end tests (they need root)
#   ATRIUM_CLUSTER=0  skip the Kubernetes suite (it builds and starts a real single-node
#                     cluster here: test/cluster/, built once and cached by version in
#                     /var/cache/atrium-test-cluster, the first build ~30-50 min)
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
LOG_DIR="$ROOT/test-artifacts"
mkdir -p "$LOG_DIR"
source scripts/test-lib.sh

# A set-up step that fails ends the run, counted as a failure in the closing line.
die() { echo "test setup failed: $*" >&2; tally step "$TALLY" "setup: $*" 1; finish; exit 1; }

step "installing test prerequisites"
bash scripts/install-prereqs.sh --test || die "could not install system packages"
npm ci --no-audit --no-fund >"$LOG_DIR/npm-ci.log" 2>&1 || { cat "$LOG_DIR/npm-ci.log"; die "npm ci failed"; }
npm run build >"$LOG_DIR/build.log" 2>&1 || { cat "$LOG_DIR/build.log"; die "build failed (TypeScript errors above)"; }

# The test cluster's first build on a machine takes half an hour of compiling: it starts now, at
# the lowest CPU and I/O priority, and uses what the suites below leave idle; the Kubernetes
# suite waits for it. Later runs only check its stamps.
CLUSTER_BUILD_PID=""
if [ "${ATRIUM_CLUSTER:-1}" != "0" ] && [ -d dist/test/cluster ] && [ "$(id -u)" = 0 ]; then
  setsid nice -n 19 ionice -c 3 bash test/cluster/build.sh >"$LOG_DIR/cluster-build.log" 2>&1 &
  CLUSTER_BUILD_PID=$!
  trap '[ -n "$CLUSTER_BUILD_PID" ] && kill -- "-$CLUSTER_BUILD_PID" 2>/dev/null' EXIT
fi

step "format and lint (biome)"
run_step biome npx biome ci .

step "import rule (cli -> deploy -> targets -> contracts, model -> config -> lib; no cycles)"
run_step imports node dist/scripts/check-imports.js

node_suite unit dist/test/unit/

PYVENV=$(bash scripts/python-test-env.sh) || die "could not build the Python test env"
step "hub glue: format, lint and types (ruff, mypy)"
python_checks() ( cd python && "$PYVENV/bin/ruff" format --check . && "$PYVENV/bin/ruff" check . && "$PYVENV/bin/mypy" atrium_hub )
run_step python-checks python_checks

# As root, the glue's integration test starts a real hub and proxy with a real Linux user.
if [ "$(id -u)" = 0 ]; then export ATRIUM_IT=1 ATRIUM_IT_CHP="$ROOT/node_modules/.bin/configurable-http-proxy"; fi
pytest_suite pytest "$PYVENV/bin/python" python

if [ "${ATRIUM_E2E:-1}" != "0" ] && [ -d dist/test/e2e ]; then
  [ "$(id -u)" = 0 ] || die "the end-to-end tests need root (or set ATRIUM_E2E=0)"
  node_suite e2e --test-concurrency=1 dist/test/e2e/
fi

if [ "${ATRIUM_CLUSTER:-1}" != "0" ] && [ -d dist/test/cluster ]; then
  [ "$(id -u)" = 0 ] || die "the Kubernetes suite needs root (or set ATRIUM_CLUSTER=0)"
  step "test Kubernetes cluster: build (once; cached in /var/cache/atrium-test-cluster) and start"
  build_start=$SECONDS
  wait "$CLUSTER_BUILD_PID"; build_rc=$?
  CLUSTER_BUILD_PID=""
  grep -E ": [0-9]+ s$|cached in|build complete" "$LOG_DIR/cluster-build.log" | tail -15
  echo "waited $((SECONDS - build_start)) s for the cluster build"
  [ "$build_rc" = 0 ] \
    || { tail -40 "$LOG_DIR/cluster-build.log"; die "could not build the test cluster (log: $LOG_DIR/cluster-build.log)"; }
  if bash test/cluster/up.sh >"$LOG_DIR/cluster-up.log" 2>&1; then
    tail -3 "$LOG_DIR/cluster-up.log"
    node_suite cluster --test-concurrency=1 dist/test/cluster/
  else
    tail -40 "$LOG_DIR/cluster-up.log"
    tally step "$TALLY" "setup: could not start the test cluster (log: $LOG_DIR/cluster-up.log)" 1
  fi
  step "test Kubernetes cluster: tear down, host left as found"
  run_step cluster-down bash test/cluster/down.sh
fi

finish
