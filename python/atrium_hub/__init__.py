"""Atrium's hub glue: JupyterHub config from the rendered hub JSON, profiles,
cgroup limits and password login. See README.md in the parent folder."""

from pathlib import Path

__version__ = "0.1.0"


def config_file() -> str:
    """Path of the static config file to pass to `jupyterhub -f`."""
    return str(Path(__file__).with_name("jupyterhub_config.py"))
