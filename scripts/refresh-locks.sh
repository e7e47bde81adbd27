#!/usr/bin/env bash
# Regenerate the pinned, hashed lockfiles of Atrium's Python environments
# (envs/*/requirements.lock) from their envs/*/requirements.in.
#
# Usage:
#   scripts/refresh-locks.sh                      # re-resolve, keeping existing pins where possible
#   scripts/refresh-locks.sh --upgrade            # move every package to its newest allowed version
#   scripts/refresh-locks.sh --upgrade-package numpy
#
# Any arguments are passed on to `uv pip compile`, run with Atrium's pinned uv
# (scripts/ensure-uv.sh: the one envs/tools/requirements.lock names).
# The locks are universal: one file per environment serves CPython >= 3.10 on
# any platform, with per-Python-version pins where a package needs them.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

uv=$(bash scripts/ensure-uv.sh)

# Lowest Python the locks must support (Ubuntu 22.04 ships 3.10).
min_python="3.10"
# tools: uv itself (installed by deploy when missing); test: the glue's test tools,
# constrained to the hub lock's pins because they are installed on top of it.
# node: Node.js for the environment service pod on the kubernetes target.
envs=(hub user tools test node)

for env in "${envs[@]}"; do
  in_file="envs/${env}/requirements.in"
  lock_file="envs/${env}/requirements.lock"
  if [[ ! -f "$in_file" ]]; then
    echo "refresh-locks: missing $in_file" >&2
    exit 1
  fi
  echo "refresh-locks: $in_file -> $lock_file" >&2
  extra=()
  if [[ "$env" == test ]]; then extra=(--constraint envs/hub/requirements.lock); fi
  "$uv" pip compile \
    --no-config \
    --universal \
    --python-version "$min_python" \
    --generate-hashes \
    --only-binary :all: \
    --custom-compile-command "scripts/refresh-locks.sh" \
    --quiet \
    "${extra[@]}" \
    "$@" \
    --output-file "$lock_file" \
    "$in_file"
done

echo "refresh-locks: done ($("$uv" --version))" >&2
