# The hub's settings come from atrium_hub.json (path in ATRIUM_HUB_CONFIG),
# rendered by `atrium render`; the code that applies them is the atrium_hub package.
from atrium_hub.hubconfig import configure

configure(get_config())  # noqa: F821 - provided by JupyterHub when it loads this file
