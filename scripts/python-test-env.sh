#!/usr/bin/env bash
# Builds (or reuses) the hub glue's test env: the hub lock, the test tools' lock and
# the glue itself (editable), on the system Python. Prints the env's path.
set -euo pipefail
cd "$(dirname "$0")/.."
uv=$(bash scripts/ensure-uv.sh)
venv="${ATRIUM_PYTEST_VENV:-/var/tmp/atrium-pytest-env}"
stamp=$(cat envs/hub/requirements.lock envs/test/requirements.lock python/pyproject.toml | sha256sum | cut -c1-16)
if [ "$(cat "$venv/.atrium-stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$venv"
  export UV_PYTHON_DOWNLOADS=never UV_NO_PROGRESS=1
  "$uv" venv --quiet --python /usr/bin/python3 "$venv" >&2
  "$uv" pip sync --quiet --python "$venv/bin/python" --require-hashes envs/hub/requirements.lock >&2
  "$uv" pip install --quiet --python "$venv/bin/python" --require-hashes -r envs/test/requirements.lock >&2
  echo "$stamp" >"$venv/.atrium-stamp"
fi
# The glue, editable from this checkout: the env may have been made from another one.
"$uv" pip install --quiet --python "$venv/bin/python" --no-deps -e python >&2
echo "$venv"
