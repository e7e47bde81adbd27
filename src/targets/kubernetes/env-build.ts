/**
 * What an init container runs to build Python environments onto the shared volume from
 * hashed lockfiles (the hub's, the users', Node.js for the environment service): one
 * environment per lock, in a folder named by the lock's hash, with a stable name that is
 * a link switched at the end; an environment already complete is not built again. And
 * the security context every platform container starts from.
 */
import { ENV_SOURCES_DIR, ENVS_MOUNT } from "./pod-paths.js";

/** No privilege escalation, every capability dropped. */
export const RESTRICTED = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
};

/** One word for sh, whatever it holds. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** `builds`: [name, the lock's key among the sources]; `after`: a command run once they are built. */
export function envBuildScript(
  indexUrl: string,
  builds: ReadonlyArray<readonly [string, string]>,
  after?: string,
): string {
  return `${[
    "set -eu",
    // a slow or busy index: a long read timeout, and each install tried three times
    `export UV_CACHE_DIR=/tmp/uv-cache UV_HTTP_TIMEOUT=300 UV_INDEX_URL=${shellQuote(indexUrl)}`,
    "build() {",
    `  lock=${ENV_SOURCES_DIR}/$2`,
    '  hash=$(sha256sum "$lock" | cut -c1-16)',
    `  dir=${ENVS_MOUNT}/$1-$hash`,
    '  if [ ! -e "$dir/.atrium-complete" ]; then',
    '    rm -rf "$dir"',
    '    uv venv --no-config --python "$(command -v python3)" "$dir"',
    "    for try in 1 2 3; do",
    '      VIRTUAL_ENV="$dir" uv pip sync --no-config --require-hashes --only-binary :all: "$lock" && break',
    '      [ "$try" = 3 ] && exit 1',
    '      echo "install failed (try $try of 3); trying again in 5 s" >&2 && sleep 5',
    "    done",
    '    touch "$dir/.atrium-complete"',
    "  fi",
    `  ln -sfn "$1-$hash" ${ENVS_MOUNT}/$1.new && mv -Tf ${ENVS_MOUNT}/$1.new ${ENVS_MOUNT}/$1`,
    "}",
    ...builds.map(([name, key]) => `build ${name} ${key}`),
    ...(after === undefined ? [] : [after]),
  ].join("\n")}\n`;
}
