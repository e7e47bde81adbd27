"""`python -m atrium_hub` prints the path to pass to `jupyterhub -f`."""

from . import config_file

print(config_file())
