#!/usr/bin/env bash
# Functions the test command uses to run each runner and count what it did.
# Source it with LOG_DIR set; every outcome goes to "$LOG_DIR/tally.jsonl" and
# `finish` prints the skipped and failed tests and the closing line
# "N passed, N failed, N skipped", returning non-zero when anything did not pass.
# A failing test, a cancelled one, a failing hook, a file that did not finish and
# a runner that died all count as failed (scripts/tally.mjs).
LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TALLY="$LOG_DIR/tally.jsonl"
: >"$TALLY"

step() { printf '\n== %s\n' "$*"; }

tally() { node "$LIB_DIR/tally.mjs" "$@"; }

# run_step NAME COMMAND...: one check that passes or fails as a whole.
run_step() {
  local name=$1; shift
  "$@"
  tally step "$TALLY" "$name" "$?"
}

# node_suite NAME ARGS...: node's test runner (spec output on the terminal and in
# "$LOG_DIR/NAME.log"), every test outcome recorded by scripts/test-reporter.mjs.
node_suite() {
  local name=$1; shift
  step "$name"
  local events="$LOG_DIR/$name.events.jsonl"
  rm -f "$events"
  node --test --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter="$LIB_DIR/test-reporter.mjs" --test-reporter-destination="$events" "$@" 2>&1 |
    tee "$LOG_DIR/$name.log"
  tally node "$TALLY" "$name" "${PIPESTATUS[0]}" "$events"
}

# pytest_suite NAME PYTHON DIR ARGS...: pytest in DIR, outcomes read from its JUnit report.
pytest_suite() {
  local name=$1 python=$2 dir=$3; shift 3
  step "$name"
  local junit="$LOG_DIR/$name.junit.xml"
  rm -f "$junit"
  (cd "$dir" && "$python" -m pytest -q -rs -p no:cacheprovider --junitxml="$junit" "$@" 2>&1) |
    tee "$LOG_DIR/$name.log"
  tally pytest "$TALLY" "$name" "${PIPESTATUS[0]}" "$junit"
}

# The run's duration (the shell's SECONDS), then the closing line.
finish() {
  echo "test command took $((SECONDS / 60)) min $((SECONDS % 60)) s"
  tally summary "$TALLY"
}
