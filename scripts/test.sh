#!/usr/bin/env bash
# The test command (`npm test`): installs what the tests need, then runs the
# formatter/linter check, unit tests, the hub glue's Python tests and the
# end-to-end tests, and ends with one line: "N passed, N failed".
#   ATRIUM_E2E=0   skip the end-to-end tests (they need root)
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
LOG_DIR="$ROOT/test-artifacts"
mkdir -p "$LOG_DIR"
passed=0
failed=0

step() { printf '\n== %s\n' "$*"; }
die() { echo "test setup failed: $*" >&2; exit 1; }

step "installing test prerequisites"
bash scripts/install-prereqs.sh --test || die "could not install system packages"
npm ci --no-audit --no-fund >"$LOG_DIR/npm-ci.log" 2>&1 || { cat "$LOG_DIR/npm-ci.log"; die "npm ci failed"; }
npm run build >"$LOG_DIR/build.log" 2>&1 || { cat "$LOG_DIR/build.log"; die "build failed (TypeScript errors above)"; }

step "format and lint (biome)"
if npx biome ci . ; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

# Runs node's test runner on a folder and adds its counts to the totals.
node_suite() {
  local name=$1; shift
  step "$name"
  local out="$LOG_DIR/$name.log"
  node --test --test-reporter=spec "$@" 2>&1 | tee "$out"
  local p f
  p=$(grep -E '^ℹ pass [0-9]+' "$out" | tail -1 | awk '{print $3}')
  f=$(grep -E '^ℹ fail [0-9]+' "$out" | tail -1 | awk '{print $3}')
  if [ -z "$p" ]; then failed=$((failed + 1)); echo "$name: the test runner did not finish"; return; fi
  passed=$((passed + p)); failed=$((failed + f))
}

node_suite unit dist/test/unit/

PYVENV=$(bash scripts/python-test-env.sh) || die "could not build the Python test env"
step "hub glue: format, lint and types (ruff, mypy)"
if (cd python && "$PYVENV/bin/ruff" format --check . && "$PYVENV/bin/ruff" check . && "$PYVENV/bin/mypy" atrium_hub); then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
fi

step "hub glue (pytest)"
# As root, the glue's integration test starts a real hub and proxy with a real Linux user.
if [ "$(id -u)" = 0 ]; then export ATRIUM_IT=1 ATRIUM_IT_CHP="$ROOT/node_modules/.bin/configurable-http-proxy"; fi
(cd python && "$PYVENV/bin/python" -m pytest -q -p no:cacheprovider 2>&1) | tee "$LOG_DIR/pytest.log"
pp=$(grep -Eo '[0-9]+ passed' "$LOG_DIR/pytest.log" | tail -1 | awk '{print $1}')
pf=$(grep -Eo '[0-9]+ (failed|error)' "$LOG_DIR/pytest.log" | awk '{s += $1} END {print s + 0}')
if [ -z "$pp" ]; then pp=0; [ "$pf" -eq 0 ] && pf=1; fi
passed=$((passed + pp)); failed=$((failed + pf))

if [ "${ATRIUM_E2E:-1}" != "0" ] && [ -d dist/test/e2e ]; then
  [ "$(id -u)" = 0 ] || die "the end-to-end tests need root (or set ATRIUM_E2E=0)"
  node_suite e2e --test-concurrency=1 dist/test/e2e/
fi

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
