"""The hub JSON that Atrium's TypeScript side renders, as typed settings.

This JSON is the only input of the hub glue: the Python code is static and every
value the hub uses comes from here. Its contract is src/contracts/hub-settings.ts,
shipped as contracts/hub-settings.schema.json. What must stay true:

- a malformed file never reaches JupyterHub: `load_settings` either returns typed
  `Settings` or raises `SettingsError` listing every problem, each naming the file
  and the key path (`/etc/atrium/hub.json  profiles[1].mem_limit  expected integer, got "8G"`);
- the schema checks shapes and values (contract.py); this module adds only what a
  JSON Schema cannot say (names unique, references known) and then reads the data;
- unknown keys are errors, so a contract drift between the two sides is caught on
  the first deploy instead of being silently ignored.

This module imports nothing from JupyterHub so the password CLI stays light.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from . import contract
from .contract import Problem, show

CONFIG_ENV = "ATRIUM_HUB_CONFIG"
CONTRACT = "hub-settings"
CGROUP_MODES = ("auto", "v1", "v2-systemd", "off")
# presets whose provider has one well-known address; the others need `issuer`
OIDC_PRESETS_WITHOUT_ISSUER = ("github", "google")
IDLE_CULLER_SERVICE = "idle-culler"

# Linux user and group names as Atrium creates them (the contract's linuxName).
NAME_PATTERN = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")


@dataclass(frozen=True)
class Project:
    name: str
    title: str
    welcome: str


@dataclass(frozen=True)
class Hub:
    bind_url: str
    #: None: the hub does not know its public address (a node port, a load balancer) and builds redirects per request.
    public_url: str | None
    base_url: str
    data_dir: str
    db_url: str
    cookie_secret_file: str
    #: Where the proxy and servers reach the hub (a Service), when not at bind_url's address.
    connect_url: str | None = None


@dataclass(frozen=True)
class Proxy:
    api_url: str
    auth_token_file: str


@dataclass(frozen=True)
class Oidc:
    """Single sign-on; None in a claim or scopes field means the preset's (or OIDC's) default."""

    preset: str | None
    issuer: str | None
    client_id: str
    client_secret_env: str
    username_claim: str | None
    groups_claim: str | None
    scopes: tuple[str, ...] | None
    allowed_groups: tuple[str, ...]
    admin_groups: tuple[str, ...]
    group_map: Mapping[str, str]
    #: Whether the hub makes and updates Linux accounts at login; False: only the
    #: file's users log in, with the accounts deploy made (a cluster's pods).
    linux_accounts: bool
    #: Where accounts made at first login get their home, and their shell.
    home_dir: str
    default_shell: str
    #: Parent of the group folders: links in ~/shared pointing below it are Atrium's.
    shared_dir: str
    #: The hub's record of the accounts made at login (root-only JSON).
    accounts_file: str
    #: Names no account made at login may take.
    reserved_names: tuple[str, ...]


@dataclass(frozen=True)
class Auth:
    type: str
    password_file: str = ""
    oidc: Oidc | None = None


@dataclass(frozen=True)
class User:
    name: str
    admin: bool
    groups: tuple[str, ...]
    home: str
    shell: str


@dataclass(frozen=True)
class Group:
    name: str
    description: str
    shared_folder: str | None


@dataclass(frozen=True)
class Profile:
    """Limits and guarantees: 0 means none (the JSON may also say null)."""

    name: str
    display_name: str
    description: str
    cpu_limit: float
    cpu_guarantee: float
    mem_limit: int
    mem_guarantee: int
    gpus: int
    default: bool
    groups: tuple[str, ...]
    users: tuple[str, ...]
    #: Most tasks (processes and threads) in the server's cgroup; 0: no limit.
    pids_limit: int = 0


@dataclass(frozen=True)
class Cgroup:
    mode: str
    v1_root: str
    parent: str


@dataclass(frozen=True)
class Spawner:
    cmd: tuple[str, ...]
    default_url: str
    path_prepend: tuple[str, ...]
    environment: Mapping[str, str]
    cgroup: Cgroup
    #: Root-owned folder of the servers' Unix sockets (server_socket.py).
    sockets_dir: str
    #: Per-user kernelspecs of managed environments: <kernels_dir>/<user> goes on JUPYTER_PATH.
    kernels_dir: str | None = None


@dataclass(frozen=True)
class IdleCuller:
    enabled: bool
    timeout: int
    every: int
    max_age: int
    python: str


@dataclass(frozen=True)
class Service:
    name: str
    url: str | None
    api_token_file: str | None
    oauth_redirect_uri: str | None
    admin: bool
    oauth_no_confirm: bool
    scopes: tuple[str, ...]
    #: Every platform user may use this service (their server tokens may too).
    user_access: bool = False


@dataclass(frozen=True)
class GroupRoom:
    group: str
    room_name: str


@dataclass(frozen=True)
class Room:
    name: str
    room_name: str


@dataclass(frozen=True)
class VideoChat:
    """Jitsi rooms, already named <project>-<name> by the TypeScript side."""

    enabled: bool
    jitsi_domain: str
    project: str
    group_rooms: tuple[GroupRoom, ...]
    rooms: tuple[Room, ...]


@dataclass(frozen=True)
class Settings:
    source: str
    version: int
    project: Project
    hub: Hub
    proxy: Proxy
    auth: Auth
    users: tuple[User, ...]
    groups: tuple[Group, ...]
    profiles: tuple[Profile, ...]
    spawner: Spawner | None
    idle_culler: IdleCuller
    services: tuple[Service, ...]
    videochat: VideoChat
    kube_spawner: Mapping[str, Any] | None = None
    """KubeSpawner's section (kubernetes target), as the contract checked it; kube_spawner.py reads it."""


class SettingsError(contract.ContractError):
    """The hub JSON is missing, unreadable or does not follow the contract."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        super().__init__(source, problems, "invalid Atrium hub config")


def parse_settings(data: Any, source: str = "<hub config>") -> Settings:
    """Check already-decoded JSON; raise SettingsError listing every problem."""
    found = contract.problems(CONTRACT, data) if isinstance(data, dict) else []
    if not isinstance(data, dict):
        raise SettingsError(source, [Problem("", f"expected a JSON object at the top, got {show(data)}")])
    reported = {p.key for p in found}
    found += [p for p in _cross_references(data) if p.key not in reported]
    if found:
        raise SettingsError(source, found)
    return _settings(data, source)


def load_settings(path: str | os.PathLike[str]) -> Settings:
    """Read and check the hub JSON at `path`."""
    try:
        data = contract.read_json(path)
    except contract.ContractError as e:
        raise SettingsError(e.source, e.problems) from e
    return parse_settings(data, str(path))


def load_settings_from_env(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the hub JSON named by $ATRIUM_HUB_CONFIG."""
    env = os.environ if environ is None else environ
    path = env.get(CONFIG_ENV, "")
    if not path:
        raise SettingsError(f"${CONFIG_ENV}", [Problem("", "is not set; it must name the hub JSON file")])
    return load_settings(path)


# --- what a JSON Schema cannot say -------------------------------------------
# Run on the data as it is, valid or not, so its problems come with the schema's;
# items whose shape is wrong are skipped here (the schema reported them).


def _items(data: Mapping[str, Any], section: str) -> list[tuple[int, dict[str, Any]]]:
    value = data.get(section)
    return [(i, x) for i, x in enumerate(value) if isinstance(x, dict)] if isinstance(value, list) else []


def _names(data: Mapping[str, Any], section: str) -> set[str]:
    return {x["name"] for _, x in _items(data, section) if isinstance(x.get("name"), str)}


def _cross_references(data: Mapping[str, Any]) -> list[Problem]:
    out: list[Problem] = []

    def known(key: str, value: Any, names: set[str], what: str) -> None:
        if isinstance(value, str) and value not in names:
            listed = ", ".join(sorted(names)) or "none"
            out.append(Problem(key, f"unknown {what} {show(value)}; {what}s are: {listed}"))

    def all_known(key: str, values: Any, names: set[str], what: str) -> None:
        for j, value in enumerate(values if isinstance(values, list) else []):
            known(f"{key}[{j}]", value, names, what)

    for section in ("users", "groups", "profiles", "services"):
        seen: set[Any] = set()
        for i, x in _items(data, section):
            if x.get("name") in seen:
                out.append(Problem(f"{section}[{i}].name", f"{show(x.get('name'))} is listed twice"))
            seen.add(x.get("name"))
    users, groups = _names(data, "users"), _names(data, "groups")
    for i, u in _items(data, "users"):
        all_known(f"users[{i}].groups", u.get("groups"), groups, "group")
    defaults = [str(p.get("name")) for _, p in _items(data, "profiles") if p.get("default") is True]
    if len(defaults) > 1:
        out.append(Problem("profiles", f"more than one default profile: {', '.join(defaults)}; mark exactly one"))
    for i, p in _items(data, "profiles"):
        all_known(f"profiles[{i}].groups", p.get("groups"), groups, "group")
        all_known(f"profiles[{i}].users", p.get("users"), users, "user")
        for what in ("cpu", "mem"):
            limit, guarantee = p.get(f"{what}_limit"), p.get(f"{what}_guarantee")
            if _amount(limit) and _amount(guarantee) > _amount(limit):
                out.append(
                    Problem(
                        f"profiles[{i}].{what}_guarantee", f"{show(guarantee)} is more than {what}_limit {show(limit)}"
                    )
                )
    culler = data.get("idle_culler")
    if isinstance(culler, dict) and culler.get("enabled") is True:
        for i, svc in _items(data, "services"):
            if svc.get("name") == IDLE_CULLER_SERVICE:
                out.append(
                    Problem(f"services[{i}].name", f"{show(IDLE_CULLER_SERVICE)} is reserved for the idle culler")
                )
    hub: Mapping[str, Any] = data["hub"] if isinstance(data.get("hub"), dict) else {}
    base, public = hub.get("base_url"), hub.get("public_url")
    if isinstance(base, str) and base.endswith("/") and isinstance(public, str):
        path = urlparse(public).path
        if path not in ("", "/") and path.rstrip("/") + "/" != base:
            message = f"path {show(path)} must be empty or equal hub.base_url {show(base)}"
            out.append(Problem("hub.public_url", message))
    auth = data.get("auth")
    if isinstance(auth, dict) and auth.get("type") == "oidc":
        if auth.get("issuer") is None and auth.get("preset") not in OIDC_PRESETS_WITHOUT_ISSUER:
            which = f"preset {auth['preset']}" if auth.get("preset") else "no preset"
            out.append(Problem("auth.issuer", f"is required with {which}; only github and google know their issuer"))
        group_map = auth.get("group_map")
        for provider_group, group in (group_map if isinstance(group_map, dict) else {}).items():
            known(f"auth.group_map.{provider_group}", group, groups, "group")
    videochat = data.get("videochat")
    for i, room in _items(videochat if isinstance(videochat, dict) else {}, "group_rooms"):
        known(f"videochat.group_rooms[{i}].group", room.get("group"), groups, "group")
    return out


def _amount(value: Any) -> float:
    """A limit or guarantee as a number; 0 (none) for null or a value the schema refused."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


# --- reading checked data ----------------------------------------------------


def _settings(d: Mapping[str, Any], source: str) -> Settings:
    sp, vc = d["spawner"], d["videochat"]
    return Settings(
        source=source,
        version=d["version"],
        project=Project(**d["project"]),
        hub=Hub(**d["hub"]),
        proxy=Proxy(**d["proxy"]),
        auth=_auth(d["auth"]),
        users=tuple(User(**{**u, "groups": tuple(u["groups"])}) for u in d["users"]),
        groups=tuple(Group(**g) for g in d["groups"]),
        profiles=tuple(parse_profile(p) for p in d["profiles"]),
        spawner=None if sp is None else _spawner(sp),
        kube_spawner=d.get("kube_spawner"),
        idle_culler=IdleCuller(**d["idle_culler"]),
        services=tuple(_service(s) for s in d["services"]),
        videochat=VideoChat(
            enabled=vc["enabled"],
            jitsi_domain=vc["jitsi_domain"],
            project=vc["project"],
            group_rooms=tuple(GroupRoom(**r) for r in vc["group_rooms"]),
            rooms=tuple(Room(**r) for r in vc["rooms"]),
        ),
    )


def _spawner(sp: Mapping[str, Any]) -> Spawner:
    return Spawner(
        cmd=tuple(sp["cmd"]),
        default_url=sp["default_url"],
        path_prepend=tuple(sp["path_prepend"]),
        environment=dict(sp["environment"]),
        cgroup=Cgroup(**sp["cgroup"]),
        sockets_dir=sp["sockets_dir"],
        kernels_dir=sp.get("kernels_dir"),
    )


def _auth(a: Mapping[str, Any]) -> Auth:
    if a["type"] == "password":
        return Auth(type="password", password_file=a["password_file"])
    scopes = a["scopes"]
    return Auth(
        type="oidc",
        oidc=Oidc(
            **contract.pick(a, "preset", "issuer", "client_id", "client_secret_env", "username_claim"),
            **contract.pick(a, "groups_claim", "home_dir", "default_shell", "shared_dir", "accounts_file"),
            linux_accounts=bool(a["linux_accounts"]),
            scopes=None if scopes is None else tuple(scopes),
            allowed_groups=tuple(a["allowed_groups"]),
            admin_groups=tuple(a["admin_groups"]),
            group_map=dict(a["group_map"]),
            reserved_names=tuple(a["reserved_names"]),
        ),
    )


def _service(s: Mapping[str, Any]) -> Service:
    return Service(
        name=s["name"],
        url=s.get("url"),
        api_token_file=s.get("api_token_file"),
        oauth_redirect_uri=s.get("oauth_redirect_uri"),
        admin=s.get("admin", False),
        oauth_no_confirm=s.get("oauth_no_confirm", True),
        scopes=tuple(s.get("scopes", ())),
        user_access=s.get("user_access", False),
    )


def parse_profile(p: Mapping[str, Any], key: str = "profile") -> Profile:
    """One checked profile (from the hub JSON, or the spawner's copy of it); null limits become 0."""
    return Profile(
        name=p["name"],
        display_name=p["display_name"],
        description=p["description"],
        cpu_limit=float(p["cpu_limit"] or 0),
        cpu_guarantee=float(p["cpu_guarantee"] or 0),
        mem_limit=p["mem_limit"] or 0,
        mem_guarantee=p["mem_guarantee"] or 0,
        gpus=p["gpus"],
        default=p["default"],
        groups=tuple(p["groups"]),
        users=tuple(p["users"]),
        pids_limit=p.get("pids_limit") or 0,
    )
