#!/usr/bin/env bash
# Prints the path of Atrium's pinned uv for the test set-up: installed by pip from the
# hashed lock envs/tools/requirements.lock into a venv of /usr/bin/python3, in a folder
# named by the lock's hash (/var/tmp/atrium-tools-<hash>). Never a uv found on PATH:
# that one may be another version, or one only root can run.
set -euo pipefail
cd "$(dirname "$0")/.."
lock=envs/tools/requirements.lock
hash=$(sha256sum "$lock" | cut -c1-16)
tools="${ATRIUM_TOOLS_VENV:-/var/tmp/atrium-tools-$hash}"
if [ "$(cat "$tools/.atrium-complete" 2>/dev/null)" != "$hash" ] || [ ! -x "$tools/bin/uv" ]; then
  rm -rf "$tools"
  /usr/bin/python3 -m venv "$tools" >&2
  "$tools/bin/pip" install --quiet --disable-pip-version-check --no-input --require-hashes -r "$lock" >&2
  echo "$hash" >"$tools/.atrium-complete"
fi
echo "$tools/bin/uv"
