"""Load and validate the hub JSON that Atrium's TypeScript side renders.

This JSON is the only input of the hub glue: the Python code is static and every
value the hub uses comes from here. What must stay true:

- a malformed file never reaches JupyterHub: `load_settings` either returns fully
  typed, cross-checked `Settings` or raises `SettingsError`;
- every problem is reported at once, each naming the file and the key path
  (`/etc/atrium/hub.json  profiles[1].mem_limit  expected an integer >= 0, got "8G"`);
- unknown keys are errors, so a contract drift between the two sides is caught on
  the first deploy instead of being silently ignored.

This module imports nothing from JupyterHub so the password CLI stays light.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

CONFIG_ENV = "ATRIUM_HUB_CONFIG"
SUPPORTED_VERSION = 1
CGROUP_MODES = ("auto", "v1", "v2-systemd", "off")
AUTH_TYPES = ("password", "oidc")
OIDC_PRESETS = ("github", "google", "keycloak", "auth0")
# presets whose provider has one well-known address; the others need `issuer`
OIDC_PRESETS_WITHOUT_ISSUER = ("github", "google")
IDLE_CULLER_SERVICE = "idle-culler"

# Linux user and group names as Atrium creates them (Debian's default NAME_REGEX,
# without the trailing `$` that only Samba machine accounts use).
NAME_PATTERN = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
SERVICE_NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


@dataclass(frozen=True)
class Project:
    name: str
    title: str
    welcome: str


@dataclass(frozen=True)
class Hub:
    bind_url: str
    public_url: str
    base_url: str
    data_dir: str
    db_url: str
    cookie_secret_file: str


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
    spawner: Spawner
    idle_culler: IdleCuller
    services: tuple[Service, ...]
    videochat: VideoChat


@dataclass(frozen=True)
class Problem:
    key: str
    message: str


class SettingsError(Exception):
    """The hub JSON is missing, unreadable or does not follow the contract."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        lines = [f"  {source}  {p.key}  {p.message}" if p.key else f"  {source}  {p.message}" for p in self.problems]
        super().__init__("invalid Atrium hub config:\n" + "\n".join(lines))


# --- checks -----------------------------------------------------------------
# A check takes (reader, value, key) and returns the converted value, or BAD after
# recording a problem. Checks never raise, so every problem is collected.


class _Bad:
    def __repr__(self) -> str:
        return "BAD"


BAD: Any = _Bad()
Check = Callable[["_Reader", Any, str], Any]


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, _Bad) else "?"
    return text if len(text) <= 60 else text[:57] + "..."


class _Reader:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def problem(self, key: str, message: str) -> Any:
        self.problems.append(Problem(key, message))
        return BAD

    def obj(
        self,
        value: Any,
        key: str,
        required: Mapping[str, Check],
        optional: Mapping[str, tuple[Check, Any]] | None = None,
    ) -> dict[str, Any] | None:
        """Check an object's fields; None if any of its own fields is bad."""
        optional = optional or {}
        if not isinstance(value, dict):
            self.problem(key, f"expected an object, got {_show(value)}")
            return None
        before = len(self.problems)
        out: dict[str, Any] = {}
        for name, check in required.items():
            sub = _join(key, name)
            out[name] = check(self, value[name], sub) if name in value else self.problem(sub, "missing")
        for name, (check, fallback) in optional.items():
            out[name] = check(self, value[name], _join(key, name)) if name in value else fallback
        for name in value:
            if name not in required and name not in optional:
                self.problem(_join(key, name), "unknown key")
        return out if len(self.problems) == before else None


def _join(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name


def string(r: _Reader, v: Any, key: str) -> Any:
    return v if isinstance(v, str) else r.problem(key, f"expected a string, got {_show(v)}")


def nonempty(r: _Reader, v: Any, key: str) -> Any:
    if not isinstance(v, str) or not v:
        return r.problem(key, f"expected a non-empty string, got {_show(v)}")
    return v


def optional_string(r: _Reader, v: Any, key: str) -> Any:
    return None if v is None else nonempty(r, v, key)


def boolean(r: _Reader, v: Any, key: str) -> Any:
    return v if isinstance(v, bool) else r.problem(key, f"expected true or false, got {_show(v)}")


def integer(minimum: int) -> Check:
    def check(r: _Reader, v: Any, key: str) -> Any:
        if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
            return r.problem(key, f"expected an integer >= {minimum}, got {_show(v)}")
        return v

    return check


def number(r: _Reader, v: Any, key: str) -> Any:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0 or v != v:
        return r.problem(key, f"expected a number >= 0, got {_show(v)}")
    return float(v)


def limit_number(r: _Reader, v: Any, key: str) -> Any:
    """A CPU amount where null means "none" (stored as 0)."""
    return 0.0 if v is None else number(r, v, key)


def limit_bytes(r: _Reader, v: Any, key: str) -> Any:
    """A byte count where null means "none" (stored as 0)."""
    return 0 if v is None else integer(0)(r, v, key)


def abs_path(r: _Reader, v: Any, key: str) -> Any:
    if not isinstance(v, str) or not v.startswith("/"):
        return r.problem(key, f"expected an absolute path, got {_show(v)}")
    return v


def optional_abs_path(r: _Reader, v: Any, key: str) -> Any:
    return None if v is None else abs_path(r, v, key)


def http_url(r: _Reader, v: Any, key: str) -> Any:
    if not isinstance(v, str):
        return r.problem(key, f"expected an http(s) URL, got {_show(v)}")
    parsed = urlparse(v)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return r.problem(key, f"expected an http(s) URL like http://127.0.0.1:8081, got {_show(v)}")
    try:
        parsed.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return r.problem(key, f"{_show(v)} has an invalid port")
    return v


def optional_http_url(r: _Reader, v: Any, key: str) -> Any:
    return None if v is None else http_url(r, v, key)


def base_url(r: _Reader, v: Any, key: str) -> Any:
    if not isinstance(v, str) or not v.startswith("/") or not v.endswith("/"):
        return r.problem(key, f"expected a path that starts and ends with /, got {_show(v)}")
    return v


def linux_name(r: _Reader, v: Any, key: str) -> Any:
    if not isinstance(v, str) or not NAME_PATTERN.match(v):
        return r.problem(key, f"{_show(v)} is not a valid name; use a-z, 0-9, _ and -, starting with a letter or _")
    return v


def one_of(choices: Sequence[str]) -> Check:
    def check(r: _Reader, v: Any, key: str) -> Any:
        if v not in choices:
            return r.problem(key, f"{_show(v)} is not one of {', '.join(choices)}")
        return v

    return check


def cgroup_parent(r: _Reader, v: Any, key: str) -> Any:
    parts = v.split("/") if isinstance(v, str) else []
    if not parts or any(p in ("", ".", "..") for p in parts):
        return r.problem(key, f"expected a relative path like atrium/team/users, got {_show(v)}")
    return v


def list_of(item: Check) -> Check:
    def check(r: _Reader, v: Any, key: str) -> Any:
        if not isinstance(v, list):
            return r.problem(key, f"expected a list, got {_show(v)}")
        before = len(r.problems)
        items = tuple(item(r, x, f"{key}[{i}]") for i, x in enumerate(v))
        return items if len(r.problems) == before else BAD

    return check


ENV_NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def env_map(r: _Reader, v: Any, key: str) -> Any:
    if not isinstance(v, dict):
        return r.problem(key, f"expected an object of strings, got {_show(v)}")
    before = len(r.problems)
    for name, value in v.items():
        if not ENV_NAME_PATTERN.match(name):
            r.problem(_join(key, name), "is not a valid environment variable name")
        elif not isinstance(value, str):
            r.problem(_join(key, name), f"expected a string, got {_show(value)}")
    return dict(v) if len(r.problems) == before else BAD


# --- the contract -----------------------------------------------------------


def _project(r: _Reader, v: Any) -> Project | None:
    f = r.obj(v, "project", {"name": nonempty, "title": string, "welcome": string})
    return Project(**f) if f else None


def _hub(r: _Reader, v: Any) -> Hub | None:
    f = r.obj(
        v,
        "hub",
        {
            "bind_url": http_url,
            "public_url": http_url,
            "base_url": base_url,
            "data_dir": abs_path,
            "db_url": nonempty,
            "cookie_secret_file": abs_path,
        },
    )
    if not f:
        return None
    path = urlparse(f["public_url"]).path
    if path not in ("", "/") and path.rstrip("/") + "/" != f["base_url"]:
        r.problem("hub.public_url", f"path {_show(path)} must be empty or equal hub.base_url {_show(f['base_url'])}")
        return None
    return Hub(**f)


def _proxy(r: _Reader, v: Any) -> Proxy | None:
    f = r.obj(v, "proxy", {"api_url": http_url, "auth_token_file": abs_path})
    return Proxy(**f) if f else None


def _auth(r: _Reader, v: Any) -> Auth | None:
    if isinstance(v, dict) and v.get("type") == "oidc":
        oidc = _oidc(r, v)
        return Auth(type="oidc", oidc=oidc) if oidc else None
    f = r.obj(v, "auth", {"type": one_of(AUTH_TYPES), "password_file": abs_path})
    return Auth(**f) if f else None


def optional_nonempty_list(r: _Reader, v: Any, key: str) -> Any:
    if v is None:
        return None
    items = list_of(nonempty)(r, v, key)
    if items is not BAD and not items:
        return r.problem(key, "must not be empty; leave it null for the default")
    return items


def env_name(r: _Reader, v: Any, key: str) -> Any:
    if not isinstance(v, str) or not ENV_NAME_PATTERN.match(v):
        return r.problem(key, f"{_show(v)} is not an environment variable name")
    return v


def group_map(r: _Reader, v: Any, key: str) -> Any:
    if not isinstance(v, dict):
        return r.problem(key, f"expected an object of provider group -> group, got {_show(v)}")
    before = len(r.problems)
    for name, group in v.items():
        linux_name(r, group, _join(key, name))
    return dict(v) if len(r.problems) == before else BAD


def _oidc(r: _Reader, v: Any) -> Oidc | None:
    f = r.obj(
        v,
        "auth",
        {
            "type": one_of(AUTH_TYPES),
            "preset": lambda r, v, k: None if v is None else one_of(OIDC_PRESETS)(r, v, k),
            "issuer": optional_http_url,
            "client_id": nonempty,
            "client_secret_env": env_name,
            "username_claim": optional_string,
            "groups_claim": optional_string,
            "scopes": optional_nonempty_list,
            "allowed_groups": list_of(nonempty),
            "admin_groups": list_of(nonempty),
            "group_map": group_map,
            "home_dir": abs_path,
            "default_shell": abs_path,
            "shared_dir": abs_path,
            "accounts_file": abs_path,
            "reserved_names": list_of(nonempty),
        },
    )
    if not f:
        return None
    if f["issuer"] is None and f["preset"] not in OIDC_PRESETS_WITHOUT_ISSUER:
        which = f"preset {f['preset']}" if f["preset"] else "no preset"
        r.problem("auth.issuer", f"is required with {which}; only github and google know their issuer")
        return None
    del f["type"]
    return Oidc(**f)


def _user(r: _Reader, v: Any, key: str) -> User | None:
    f = r.obj(
        v,
        key,
        {"name": linux_name, "admin": boolean, "groups": list_of(linux_name), "home": abs_path, "shell": abs_path},
    )
    return User(**f) if f else None


def _group(r: _Reader, v: Any, key: str) -> Group | None:
    f = r.obj(v, key, {"name": linux_name, "description": string, "shared_folder": optional_abs_path})
    return Group(**f) if f else None


def _profile(r: _Reader, v: Any, key: str) -> Profile | None:
    f = r.obj(
        v,
        key,
        {
            "name": nonempty,
            "display_name": nonempty,
            "description": string,
            "cpu_limit": limit_number,
            "cpu_guarantee": limit_number,
            "mem_limit": limit_bytes,
            "mem_guarantee": limit_bytes,
            "gpus": integer(0),
            "default": boolean,
            "groups": list_of(linux_name),
            "users": list_of(linux_name),
        },
        {"pids_limit": (limit_bytes, 0)},
    )
    if not f:
        return None
    before = len(r.problems)
    if f["cpu_limit"] and f["cpu_guarantee"] > f["cpu_limit"]:
        r.problem(f"{key}.cpu_guarantee", f"{f['cpu_guarantee']:g} is more than cpu_limit {f['cpu_limit']:g}")
    if f["mem_limit"] and f["mem_guarantee"] > f["mem_limit"]:
        r.problem(f"{key}.mem_guarantee", f"{f['mem_guarantee']} is more than mem_limit {f['mem_limit']}")
    return Profile(**f) if len(r.problems) == before else None


def _cgroup(r: _Reader, v: Any, key: str) -> Any:
    f = r.obj(v, key, {"mode": one_of(CGROUP_MODES), "v1_root": abs_path, "parent": cgroup_parent})
    return Cgroup(**f) if f else BAD


def _spawner(r: _Reader, v: Any) -> Spawner | None:
    f = r.obj(
        v,
        "spawner",
        {
            "cmd": list_of(nonempty),
            "default_url": string,
            "path_prepend": list_of(abs_path),
            "environment": env_map,
            "cgroup": _cgroup,
            "sockets_dir": abs_path,
        },
        {"kernels_dir": (optional_abs_path, None)},
    )
    if not f:
        return None
    if not f["cmd"]:
        r.problem("spawner.cmd", "must name the single-user server command")
        return None
    return Spawner(
        cmd=f["cmd"],
        default_url=f["default_url"],
        path_prepend=f["path_prepend"],
        environment=f["environment"],
        cgroup=f["cgroup"],
        sockets_dir=f["sockets_dir"],
        kernels_dir=f["kernels_dir"],
    )


def _idle_culler(r: _Reader, v: Any) -> IdleCuller | None:
    f = r.obj(
        v,
        "idle_culler",
        {"enabled": boolean, "timeout": integer(1), "every": integer(1), "max_age": integer(0), "python": abs_path},
    )
    return IdleCuller(**f) if f else None


def _service(r: _Reader, v: Any, key: str) -> Service | None:
    def name(r: _Reader, v: Any, key: str) -> Any:
        if not isinstance(v, str) or not SERVICE_NAME_PATTERN.match(v):
            return r.problem(key, f"{_show(v)} is not a valid service name; use lowercase letters, digits, _ . -")
        return v

    f = r.obj(
        v,
        key,
        {"name": name},
        {
            "url": (optional_http_url, None),
            "api_token_file": (optional_abs_path, None),
            "oauth_redirect_uri": (optional_string, None),
            "admin": (boolean, False),
            "oauth_no_confirm": (boolean, True),
            "scopes": (list_of(nonempty), ()),
            "user_access": (boolean, False),
        },
    )
    return Service(**f) if f else None


JITSI_DOMAIN_PATTERN = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


def jitsi_domain(r: _Reader, v: Any, key: str) -> Any:
    if not isinstance(v, str) or not JITSI_DOMAIN_PATTERN.match(v):
        return r.problem(key, f"expected a host name with an optional port, like meet.jit.si, got {_show(v)}")
    return v


def _group_room(r: _Reader, v: Any, key: str) -> Any:
    f = r.obj(v, key, {"group": linux_name, "room_name": nonempty})
    return GroupRoom(**f) if f else BAD


def _room(r: _Reader, v: Any, key: str) -> Any:
    f = r.obj(v, key, {"name": nonempty, "room_name": nonempty})
    return Room(**f) if f else BAD


def _videochat(r: _Reader, v: Any) -> VideoChat | None:
    f = r.obj(
        v,
        "videochat",
        {
            "enabled": boolean,
            "jitsi_domain": jitsi_domain,
            "project": nonempty,
            "group_rooms": list_of(_group_room),
            "rooms": list_of(_room),
        },
    )
    return VideoChat(**f) if f else None


def _check_videochat(r: _Reader, videochat: VideoChat | None, group_names: set[str]) -> None:
    if videochat is None:
        return
    for i, room in enumerate(videochat.group_rooms):
        _known(r, f"videochat.group_rooms[{i}].group", room.group, group_names, "group")


def _items(r: _Reader, v: Any, key: str, build: Callable[[_Reader, Any, str], Any]) -> list[tuple[int, Any]]:
    """(index in the file, built item) for each item that passed its own checks."""
    if not isinstance(v, list):
        r.problem(key, f"expected a list, got {_show(v)}")
        return []
    built = ((i, build(r, item, f"{key}[{i}]")) for i, item in enumerate(v))
    return [(i, x) for i, x in built if x is not None]


def _unique(r: _Reader, key: str, names: Sequence[str]) -> None:
    seen: set[str] = set()
    for i, n in enumerate(names):
        if n in seen:
            r.problem(f"{key}[{i}].name", f"{_show(n)} is listed twice")
        seen.add(n)


def _known(r: _Reader, key: str, value: str, known: set[str], what: str) -> None:
    if value not in known:
        listed = ", ".join(sorted(known)) or "none"
        r.problem(key, f"unknown {what} {_show(value)}; {what}s are: {listed}")


SECTIONS = (
    "version",
    "project",
    "hub",
    "proxy",
    "auth",
    "users",
    "groups",
    "profiles",
    "spawner",
    "idle_culler",
    "services",
    "videochat",
)


def parse_settings(data: Any, source: str = "<hub config>") -> Settings:
    """Validate already-decoded JSON; raise SettingsError listing every problem."""
    r = _Reader()
    if not isinstance(data, dict):
        raise SettingsError(source, [Problem("", f"expected a JSON object at the top, got {_show(data)}")])
    for name in SECTIONS:
        if name not in data:
            r.problem(name, "missing")
    for name in data:
        if name not in SECTIONS:
            r.problem(name, "unknown key")

    version = data.get("version")
    if "version" in data and version != SUPPORTED_VERSION:
        r.problem("version", f"{_show(version)} is not supported; this hub glue reads version {SUPPORTED_VERSION}")

    def section(name: str, build: Callable[[_Reader, Any], Any]) -> Any:
        return build(r, data[name]) if name in data else None

    project = section("project", _project)
    hub = section("hub", _hub)
    proxy = section("proxy", _proxy)
    auth = section("auth", _auth)
    spawner = section("spawner", _spawner)
    idle_culler = section("idle_culler", _idle_culler)
    videochat = section("videochat", _videochat)
    users = _items(r, data["users"], "users", _user) if "users" in data else []
    groups = _items(r, data["groups"], "groups", _group) if "groups" in data else []
    profiles = _items(r, data["profiles"], "profiles", _profile) if "profiles" in data else []
    services = _items(r, data["services"], "services", _service) if "services" in data else []

    _cross_check(r, data, users, profiles, services, idle_culler)
    if auth is not None and auth.oidc is not None:
        groups_known = set(_raw_names(data, "groups"))
        for provider_group, group in auth.oidc.group_map.items():
            _known(r, f"auth.group_map.{provider_group}", group, groups_known, "group")
    _check_videochat(r, videochat, set(_raw_names(data, "groups")))

    if r.problems:
        raise SettingsError(source, r.problems)
    return Settings(
        source=source,
        version=SUPPORTED_VERSION,
        project=project,
        hub=hub,
        proxy=proxy,
        auth=auth,
        users=tuple(u for _, u in users),
        groups=tuple(g for _, g in groups),
        profiles=tuple(p for _, p in profiles),
        spawner=spawner,
        idle_culler=idle_culler,
        services=tuple(x for _, x in services),
        videochat=videochat,
    )


def _raw_names(data: Mapping[str, Any], section: str) -> list[str]:
    """Names in a section, including items that failed their own checks.

    Cross-references use these, so one bad user does not also make every
    reference to that user an error.
    """
    items = data.get(section)
    if not isinstance(items, list):
        return []
    return [x["name"] for x in items if isinstance(x, dict) and isinstance(x.get("name"), str)]


def _cross_check(
    r: _Reader,
    data: Mapping[str, Any],
    users: Sequence[tuple[int, User]],
    profiles: Sequence[tuple[int, Profile]],
    services: Sequence[tuple[int, Service]],
    idle_culler: IdleCuller | None,
) -> None:
    for section in ("users", "groups", "profiles", "services"):
        _unique(r, section, _raw_names(data, section))
    user_names = set(_raw_names(data, "users"))
    group_names = set(_raw_names(data, "groups"))
    for i, u in users:
        for j, g in enumerate(u.groups):
            _known(r, f"users[{i}].groups[{j}]", g, group_names, "group")
    defaults = [p.name for _, p in profiles if p.default]
    if len(defaults) > 1:
        r.problem("profiles", f"more than one default profile: {', '.join(defaults)}; mark exactly one")
    for i, p in profiles:
        for j, g in enumerate(p.groups):
            _known(r, f"profiles[{i}].groups[{j}]", g, group_names, "group")
        for j, name in enumerate(p.users):
            _known(r, f"profiles[{i}].users[{j}]", name, user_names, "user")
    for i, s in services:
        if idle_culler is not None and idle_culler.enabled and s.name == IDLE_CULLER_SERVICE:
            r.problem(f"services[{i}].name", f"{_show(s.name)} is reserved for the idle culler")


def load_settings(path: str | os.PathLike[str]) -> Settings:
    """Read and validate the hub JSON at `path`."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise SettingsError(source, [Problem("", f"cannot read the file: {e.strerror or e}")]) from e
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise SettingsError(
            source, [Problem("", f"not valid JSON at line {e.lineno} column {e.colno}: {e.msg}")]
        ) from e
    return parse_settings(data, source)


def load_settings_from_env(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the hub JSON named by $ATRIUM_HUB_CONFIG."""
    env = os.environ if environ is None else environ
    path = env.get(CONFIG_ENV, "")
    if not path:
        raise SettingsError(f"${CONFIG_ENV}", [Problem("", "is not set; it must name the hub JSON file")])
    return load_settings(path)


def parse_profile(data: Any, key: str = "profile") -> Profile:
    """Validate one profile object (used by the spawner, which gets profiles as plain dicts)."""
    r = _Reader()
    profile = _profile(r, data, key)
    if profile is None:
        raise SettingsError("<spawner profiles>", r.problems)
    return profile
