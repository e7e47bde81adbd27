"""JupyterHub config file for Atrium: `jupyterhub -f <this file>`.

Static on purpose: every value comes from the JSON named by $ATRIUM_HUB_CONFIG,
validated by atrium_hub.settings and mapped by atrium_hub.hubconfig.apply.
"""

from atrium_hub.hubconfig import apply
from atrium_hub.settings import load_settings_from_env

c = get_config()  # type: ignore[name-defined]  # noqa: F821 - provided by traitlets when it runs this file
apply(c, load_settings_from_env())
