/**
 * The upstream images the kubernetes target runs, pinned; the one place their
 * defaults are stated. Atrium builds no image of its own: the hub's and the users'
 * Python environments are built with uv onto the shared volume from the same hashed
 * lockfiles as on the local target, so the hub and user images only need uv and a
 * Python whose glibc ABI matches the environments'.
 */

/** uv with CPython 3.11 on Debian bookworm: builds the hub env from its lockfile and runs it. */
export const DEFAULT_HUB_IMAGE = "ghcr.io/astral-sh/uv:0.13.9-python3.11-bookworm-slim";
/** configurable-http-proxy, as JupyterHub's own chart runs it. */
export const DEFAULT_PROXY_IMAGE = "quay.io/jupyterhub/configurable-http-proxy:4.6.3";
/** The same base as the hub's, so environments built on the volume run in user pods. */
export const DEFAULT_USER_IMAGE = DEFAULT_HUB_IMAGE;

/** The package index in-cluster environment builds install from. */
export const DEFAULT_INDEX_URL = "https://pypi.org/simple";
