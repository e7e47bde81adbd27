#!/usr/bin/env bash
# Prints the path of a uv binary: the one on PATH, or one installed from PyPI (hashed
# lock envs/tools/requirements.lock) into a venv of the system Python.
set -euo pipefail
if command -v uv >/dev/null 2>&1; then command -v uv; exit 0; fi
cd "$(dirname "$0")/.."
tools="${ATRIUM_TOOLS_VENV:-/var/tmp/atrium-tools}"
if [ ! -x "$tools/bin/uv" ]; then
  /usr/bin/python3 -m venv "$tools" >&2
  "$tools/bin/pip" install --quiet --disable-pip-version-check --require-hashes -r envs/tools/requirements.lock >&2
fi
echo "$tools/bin/uv"
