# dask-gateway-server's settings come from gateway.json (path in ATRIUM_GATEWAY_CONFIG),
# rendered by `atrium render`; the code that applies them is atrium_hub.dask_gateway.
from atrium_hub.dask_gateway import apply, load_settings_from_env

apply(c, load_settings_from_env())  # noqa: F821 - c is provided by dask-gateway-server
