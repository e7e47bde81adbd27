"""Atrium's hub glue: JupyterHub config from the rendered hub JSON, profiles,
cgroup limits and password login. See README.md in the parent folder."""

__version__ = "0.1.0"
