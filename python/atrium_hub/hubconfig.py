"""Turn validated `Settings` into JupyterHub configuration.

`apply(c, settings)` is the whole mapping from the Atrium hub JSON to traitlets
config; `jupyterhub_config.py` only loads the JSON and calls it. What must stay true:

- secrets (cookie secret, proxy token, service tokens) are read from their files
  here and only ever put into config values, never logged or printed;
- the proxy is external (run by Atrium's supervisor) and user servers outlive hub
  restarts (`cleanup_servers = False`);
- the config is authoritative for who may log in (`allowed_users`,
  `allow_existing_users = False`), who is admin (the `admin` role lists its users
  and services exactly, which also revokes), and group membership (`load_groups`
  adds, `GroupSyncMixin` removes; see membership.py); with OIDC the authenticator
  sets groups and admins at each login from the provider's groups (oidc_auth.py);
- the idle culler gets a role with exactly the scopes it needs.
"""

from __future__ import annotations

import html
from importlib import resources
from typing import Any
from urllib.parse import urlparse, urlunparse

from traitlets.config import Config

from . import cgroups
from .auth import PASSWORD_PAGE, AtriumPasswordAuthenticator
from .oidc import platform_members
from .oidc_auth import configure as configure_oidc
from .secretfiles import read_cookie_secret, read_secret
from .settings import IDLE_CULLER_SERVICE, Settings
from .spawner import AtriumSpawner
from .videochat import SETTINGS_KEY as VIDEOCHAT_SETTINGS_KEY

# jupyterhub-idle-culler's documented needs, without --cull-users (which would add admin:users)
IDLE_CULLER_SCOPES = ["list:users", "read:users:activity", "read:servers", "delete:servers"]
IDLE_CULLER_ROLE = "atrium-idle-culler"
SERVICE_ROLE_PREFIX = "atrium-service-"


def templates_dir() -> str:
    return str(resources.files("atrium_hub") / "templates")


def public_url(settings: Settings) -> str:
    """The public URL with the base_url path, as JupyterHub.public_url wants it; "" when it is not known."""
    if settings.hub.public_url is None:
        return ""
    parsed = urlparse(settings.hub.public_url)
    return urlunparse(parsed._replace(path=settings.hub.base_url, params="", query="", fragment=""))


def apply(c: Config, settings: Settings) -> None:
    _apply_hub(c, settings)
    _apply_proxy(c, settings)
    _apply_auth(c, settings)
    _apply_groups(c, settings)
    _apply_spawner(c, settings)
    _apply_services_and_roles(c, settings)
    _apply_pages(c, settings)
    # the Video Chat room list (videochat.py) reads its rooms here; it answers 404 when video chat is off
    c.JupyterHub.tornado_settings = {VIDEOCHAT_SETTINGS_KEY: settings.videochat}


def _apply_hub(c: Config, s: Settings) -> None:
    c.JupyterHub.hub_bind_url = s.hub.bind_url
    if s.hub.connect_url is not None:
        c.JupyterHub.hub_connect_url = s.hub.connect_url
    # base_url follows from bind_url's path; setting both makes JupyterHub rewrite
    # bind_url from its ip/port defaults. With no public URL (""), JupyterHub builds
    # redirects from each request, and bind_url (the external proxy's) only carries base_url.
    public = public_url(s)
    c.JupyterHub.bind_url = public or f"http://:8000{s.hub.base_url}"
    c.JupyterHub.public_url = public
    c.JupyterHub.db_url = s.hub.db_url
    c.JupyterHub.cookie_secret = read_cookie_secret(s.hub.cookie_secret_file)
    c.JupyterHub.cleanup_servers = False


def _apply_proxy(c: Config, s: Settings) -> None:
    c.JupyterHub.proxy_class = "jupyterhub.proxy.ConfigurableHTTPProxy"
    c.ConfigurableHTTPProxy.should_start = False
    c.ConfigurableHTTPProxy.api_url = s.proxy.api_url
    c.ConfigurableHTTPProxy.auth_token = read_secret(s.proxy.auth_token_file, "proxy auth token")


def _apply_auth(c: Config, s: Settings) -> None:
    if s.auth.type == "password":
        c.JupyterHub.authenticator_class = AtriumPasswordAuthenticator
        c.AtriumPasswordAuthenticator.password_file = s.auth.password_file
    elif s.auth.oidc is not None:
        configure_oidc(c, s, services_role=USER_SERVICES_ROLE)
    c.Authenticator.allowed_users = {u.name for u in s.users}
    # without this, every user ever seen stays allowed after leaving the config
    c.Authenticator.allow_existing_users = False
    c.Authenticator.allow_all = False
    c.Authenticator.any_allow_config = True
    # admins come from the admin role (see _apply_services_and_roles): JupyterHub
    # treats admin_users as grant-only and warns when both are given
    c.Authenticator.admin_users = set()


def _apply_groups(c: Config, s: Settings) -> None:
    if s.auth.oidc is not None:
        # hub groups follow each login (the authenticator's manage_groups), and
        # JupyterHub refuses load_groups alongside it
        return
    members: dict[str, list[str]] = {g.name: [] for g in s.groups}
    for u in s.users:
        for g in u.groups:
            members[g].append(u.name)
    c.JupyterHub.load_groups = {
        g.name: {
            "users": members[g.name],
            "properties": {"description": g.description, "shared_folder": g.shared_folder},
        }
        for g in s.groups
    }
    c.GroupSyncMixin.atrium_user_groups = {u.name: list(u.groups) for u in s.users}


def _apply_spawner(c: Config, s: Settings) -> None:
    sp = s.spawner
    if sp is None:
        # the kubernetes target: the contract requires kube_spawner where spawner is null
        from . import kube_spawner

        kube_spawner.apply(c, s.kube_spawner or {}, [_profile_dict(p) for p in s.profiles])
        return
    c.JupyterHub.spawner_class = AtriumSpawner
    c.Spawner.cmd = list(sp.cmd)
    c.Spawner.default_url = sp.default_url
    # A single-user server on a small, busy machine (a burst of logins on 2 cores)
    # can take longer than JupyterHub's defaults (30 s to answer, 60 s to start) to
    # come up; a slow spawn must stay a slow spawn, not become a failed one.
    c.Spawner.http_timeout = 120
    c.Spawner.start_timeout = 180
    c.Spawner.environment = dict(sp.environment)
    c.AtriumSpawner.profiles = [_profile_dict(p) for p in s.profiles]
    mode = sp.cgroup.mode
    c.AtriumSpawner.cgroup_mode = cgroups.detect_mode(sp.cgroup.v1_root) if mode == "auto" else mode
    c.AtriumSpawner.cgroup_v1_root = sp.cgroup.v1_root
    c.AtriumSpawner.cgroup_parent = sp.cgroup.parent
    c.AtriumSpawner.path_prepend = list(sp.path_prepend)
    c.AtriumSpawner.kernels_dir = sp.kernels_dir or ""
    c.AtriumSpawner.sockets_dir = sp.sockets_dir
    c.AtriumSpawner.user_homes = {u.name: u.home for u in s.users}
    c.AtriumSpawner.user_shells = {u.name: u.shell for u in s.users}


def _profile_dict(p: Any) -> dict[str, Any]:
    return {
        "name": p.name,
        "display_name": p.display_name,
        "description": p.description,
        "cpu_limit": p.cpu_limit,
        "cpu_guarantee": p.cpu_guarantee,
        "mem_limit": p.mem_limit,
        "mem_guarantee": p.mem_guarantee,
        "pids_limit": p.pids_limit,
        "gpus": p.gpus,
        "default": p.default,
        "groups": list(p.groups),
        "users": list(p.users),
    }


# util-linux's setpriv: the culler gets SIGTERM when the hub (its parent) dies.
PARENT_DEATH = ("/usr/bin/setpriv", "--pdeathsig", "TERM", "--")


def idle_culler_command(s: Settings) -> list[str]:
    ic = s.idle_culler
    # The culler is the hub's child: it must end with the hub, or a hub that is killed
    # (kill -9, OOM) leaves it running and every restart adds another.
    cmd = [
        *PARENT_DEATH,
        ic.python,
        "-m",
        "jupyterhub_idle_culler",
        f"--timeout={ic.timeout}",
        f"--cull-every={ic.every}",
    ]
    if ic.max_age:
        cmd.append(f"--max-age={ic.max_age}")
    if s.hub.connect_url is not None:
        cmd.append(f"--url={own_api_url(s)}")
    return cmd


def own_api_url(s: Settings) -> str:
    """The hub's API as a process beside it reaches it: on the bind address's port, over loopback.

    JupyterHub gives its services the API at hub_connect_url (a Kubernetes Service). A
    pod that dials its own Service is held to its own network policies, which let the
    hub reach no hub, so the culler keeps its calls inside the pod.
    """
    bind = urlparse(s.hub.bind_url)
    if bind.port is None:
        raise ValueError(f"hub.bind_url {s.hub.bind_url!r} has no port")
    host = bind.hostname if bind.hostname not in (None, "", "0.0.0.0", "::") else "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{bind.port}{s.hub.base_url.rstrip('/')}/hub/api"


USER_SERVICES_ROLE = "atrium-user-services"
# JupyterHub's own `server` role, which a server's token gets by default.
SERVER_TOKEN_SCOPES = ("users:activity!user", "access:servers!server")


def _apply_services_and_roles(c: Config, s: Settings) -> None:
    services: list[dict[str, Any]] = []
    roles: list[dict[str, Any]] = []
    admin_services: list[str] = []
    # the file's users, and with OIDC also those who logged in and are still allowed
    members = platform_members(s)

    if s.idle_culler.enabled:
        services.append({"name": IDLE_CULLER_SERVICE, "command": idle_culler_command(s)})
        roles.append(
            {
                "name": IDLE_CULLER_ROLE,
                "description": "Stop idle user servers",
                "scopes": list(IDLE_CULLER_SCOPES),
                "services": [IDLE_CULLER_SERVICE],
            }
        )

    for svc in s.services:
        spec: dict[str, Any] = {"name": svc.name}
        if svc.url:
            spec["url"] = svc.url
        if svc.api_token_file:
            spec["api_token"] = read_secret(svc.api_token_file, f"service {svc.name} token")
        if svc.oauth_redirect_uri:
            spec["oauth_redirect_uri"] = svc.oauth_redirect_uri
        # any OAuth key turns OAuth on in JupyterHub, which then demands a redirect
        # URI; an API-only service (no url, no redirect) must get none of them
        if svc.url or svc.oauth_redirect_uri:
            spec["oauth_no_confirm"] = svc.oauth_no_confirm
        services.append(spec)
        if svc.admin:
            admin_services.append(svc.name)
        if svc.scopes:
            roles.append(
                {
                    "name": f"{SERVICE_ROLE_PREFIX}{svc.name}",
                    "description": f"Scopes of the {svc.name} service",
                    "scopes": list(svc.scopes),
                    "services": [svc.name],
                }
            )

    # Services every user may use: users get access, and so do their servers' tokens
    # (a kernel calling the service with $JUPYTERHUB_API_TOKEN).
    access = [f"access:services!service={svc.name}" for svc in s.services if svc.user_access]
    if access:
        roles.append(
            {
                "name": USER_SERVICES_ROLE,
                "description": "Use Atrium's services (Dask Gateway, environments)",
                "scopes": access,
                "users": members.users,
            }
        )
    c.Spawner.server_token_scopes = [*SERVER_TOKEN_SCOPES, *access]

    # Listing both users and services makes the admin role exact: JupyterHub then
    # removes the role (and the admin flag) from anyone no longer listed.
    roles.append(
        {
            "name": "admin",
            "users": members.admins,
            "services": admin_services,
        }
    )
    c.JupyterHub.services = services
    c.JupyterHub.load_roles = roles


def _apply_pages(c: Config, s: Settings) -> None:
    c.JupyterHub.template_paths = [templates_dir()]
    welcome = html.escape(s.project.welcome)
    home = welcome
    if s.auth.type == "password":
        link = f'<a href="{html.escape(s.hub.base_url)}hub/{PASSWORD_PAGE}">Change your password</a>'
        home = f"{welcome} {link}" if welcome else link
    # The login page (templates/login.html) shows the title and welcome text itself;
    # jinja escapes them there. The home page's announcement is HTML, escaped here.
    c.JupyterHub.template_vars = {
        "atrium_project": s.project.name,
        "atrium_title": s.project.title,
        "atrium_welcome": s.project.welcome,
        "announcement_home": home,
    }
