# The hub's settings come from atrium_hub.json (path in ATRIUM_HUB_CONFIG),
# rendered by `atrium render`; the code that applies them is the atrium_hub package.
from atrium_hub.hubconfig import apply
from atrium_hub.settings import load_settings_from_env

apply(get_config(), load_settings_from_env())  # noqa: F821 - get_config is provided by JupyterHub
