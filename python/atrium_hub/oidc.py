"""Single sign-on policy: provider endpoints, Linux names, groups and admins from claims.

Pure parts of the OIDC login, kept apart from JupyterHub so they can be tested
alone (oidc_auth.py wires them into the authenticator). What must stay true:

- the file decides who may log in: a user listed in `users`, or a member of one
  of `allowed_groups` or `admin_groups` (provider group names);
- a user's platform groups are the file's groups for them plus the provider's
  groups mapped onto the file's groups (`group_map`, else the same name); a
  provider group that maps to no group of the file is ignored;
- admins are the file's admins plus members of `admin_groups`;
- `posix_name` turns any claim into a valid Linux name the same way every time,
  and leaves a valid name unchanged;
- the record of accounts made at login binds each Linux name to the claim value
  that first took it, so two people whose claims map to one name never share an
  account.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import unicodedata
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from . import contract
from .settings import NAME_PATTERN, Oidc, Settings

OIDC_SCOPES = ("openid", "profile", "email")
DEFAULT_USERNAME_CLAIM = "preferred_username"
DEFAULT_GROUPS_CLAIM = "groups"
DISCOVERY_PATH = "/.well-known/openid-configuration"
MAX_NAME = 32


class OidcSetupError(Exception):
    """The provider can't be used as configured (discovery failed, secret missing, bad record file)."""


# --- presets ---------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoints:
    authorize_url: str
    token_url: str
    userdata_url: str


@dataclass(frozen=True)
class Preset:
    login_service: str
    #: The provider's single issuer, when it has one (Google); None: per tenant or not OIDC.
    issuer: str | None
    username_claim: str
    scopes: tuple[str, ...]
    #: OAuth 2 without discovery (GitHub): fixed endpoints, and groups from the
    #: team API as "<org>/<team>".
    github_teams: bool = False
    #: Groups arrive as paths ("/analysts"); the leading "/" is dropped before matching.
    group_paths: bool = False


GITHUB_COM = Endpoints(
    authorize_url="https://github.com/login/oauth/authorize",
    token_url="https://github.com/login/oauth/access_token",
    userdata_url="https://api.github.com/user",
)

PRESETS: Mapping[str, Preset] = {
    "github": Preset(
        login_service="GitHub",
        issuer=None,
        username_claim="login",
        scopes=("read:user", "read:org"),
        github_teams=True,
    ),
    "google": Preset(
        login_service="Google",
        issuer="https://accounts.google.com",
        username_claim="email",
        scopes=OIDC_SCOPES,
    ),
    "keycloak": Preset(
        login_service="Keycloak",
        issuer=None,
        username_claim=DEFAULT_USERNAME_CLAIM,
        scopes=OIDC_SCOPES,
        group_paths=True,
    ),
    "auth0": Preset(login_service="Auth0", issuer=None, username_claim="email", scopes=OIDC_SCOPES),
}


@dataclass(frozen=True)
class Provider:
    """Everything the authenticator needs to talk to the provider, defaults filled in."""

    login_service: str
    issuer: str | None
    endpoints: Endpoints
    username_claim: str
    groups_claim: str
    scopes: tuple[str, ...]
    #: Send the client secret with HTTP Basic auth (when the provider does not take it in the form).
    basic_auth: bool = False
    #: GitHub's API, whose /user/teams gives the groups ("" for OIDC providers).
    github_api_url: str = ""
    group_paths: bool = False


FetchJson = Callable[[str], Any]


def fetch_json(url: str, timeout: float = 10.0) -> Any:
    """GET a JSON document; OidcSetupError with the reason on any failure."""
    request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "Atrium"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) URL from the config
            return json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as e:
        raise OidcSetupError(f"cannot read {url}: the server answered {e.code} {e.reason}") from None
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise OidcSetupError(f"cannot read {url}: {reason}") from None
    except ValueError as e:
        raise OidcSetupError(f"cannot read {url}: not JSON ({e})") from None


def discover(issuer: str, fetch: FetchJson = fetch_json) -> tuple[Endpoints, tuple[str, ...]]:
    """Read the issuer's discovery document: its endpoints and token auth methods."""
    url = issuer.rstrip("/") + DISCOVERY_PATH
    doc = fetch(url)
    if not isinstance(doc, dict):
        raise OidcSetupError(f"{url} is not an OpenID Connect discovery document")
    said = doc.get("issuer")
    if not isinstance(said, str) or said.rstrip("/") != issuer.rstrip("/"):
        raise OidcSetupError(
            f"{url} names the issuer {said!r}, not {issuer!r}; set auth.issuer to the provider's exact issuer URL"
        )
    found: dict[str, str] = {}
    for key in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint"):
        value = doc.get(key)
        if not isinstance(value, str) or urlparse(value).scheme not in ("http", "https"):
            raise OidcSetupError(f"{url} has no {key}; Atrium needs the authorization, token and userinfo endpoints")
        found[key] = value
    # OpenID Connect Discovery: when the list is absent, client_secret_basic is what the provider takes
    methods = doc.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    return (
        Endpoints(found["authorization_endpoint"], found["token_endpoint"], found["userinfo_endpoint"]),
        tuple(str(m) for m in methods),
    )


def preset_of(oidc: Oidc) -> Preset | None:
    return PRESETS.get(oidc.preset or "")


def github_endpoints(base: str | None) -> tuple[Endpoints, str]:
    """github.com's OAuth URLs and API, or a GitHub Enterprise server's when `base` is given."""
    if base is None:
        return GITHUB_COM, "https://api.github.com"
    root = base.rstrip("/")
    api = f"{root}/api/v3"
    return Endpoints(f"{root}/login/oauth/authorize", f"{root}/login/oauth/access_token", f"{api}/user"), api


def resolve_provider(oidc: Oidc, fetch: FetchJson = fetch_json) -> Provider:
    """Fill in the preset's URLs, claims and scopes; discover the endpoints of an OIDC issuer."""
    preset = preset_of(oidc)
    issuer = oidc.issuer or (preset.issuer if preset else None)
    api_url = ""
    if preset is not None and preset.github_teams:
        # GitHub is OAuth 2 without discovery; the issuer, if given, is a GitHub Enterprise server
        endpoints, api_url = github_endpoints(oidc.issuer)
        methods: tuple[str, ...] = ("client_secret_post",)
    elif issuer is not None:
        endpoints, methods = discover(issuer, fetch)
    else:
        raise OidcSetupError("auth.issuer is required: there is no provider to discover")
    return Provider(
        login_service=preset.login_service if preset else (urlparse(issuer or "").hostname or "single sign-on"),
        issuer=issuer,
        endpoints=endpoints,
        username_claim=oidc.username_claim or (preset.username_claim if preset else DEFAULT_USERNAME_CLAIM),
        groups_claim=oidc.groups_claim or DEFAULT_GROUPS_CLAIM,
        scopes=oidc.scopes or (preset.scopes if preset else OIDC_SCOPES),
        basic_auth="client_secret_post" not in methods,
        github_api_url=api_url,
        group_paths=bool(preset and preset.group_paths),
    )


def take_client_secret(env_name: str, environ: Any) -> str:
    """Read the client secret from the hub's environment and remove it there.

    Removing it keeps it out of every process the hub starts (useradd, services).
    """
    value = environ.pop(env_name, None)
    if not value:
        raise OidcSetupError(
            f"${env_name} is not set in the hub's environment; deploy puts the client secret there "
            "from its root-only file (run atrium deploy with the variable set)"
        )
    return str(value)


# --- names -----------------------------------------------------------------------------


def posix_name(claim: str) -> str:
    """The Linux (and hub) name for a claim value.

    Accents are dropped (é -> e), letters lower-cased, every character other than
    a-z, 0-9, _ and - becomes _, a name starting with a digit or - gets "u" in
    front, and the result is cut to 32 characters. "Ana.Smith@example.com" gives
    "ana_smith_example_com", "42" gives "u42". Valid Linux names stay as they are.
    """
    decomposed = unicodedata.normalize("NFKD", claim)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    name = re.sub(r"[^a-z0-9_-]", "_", plain)
    if name and not re.match(r"[a-z_]", name):
        name = "u" + name
    return name[:MAX_NAME]


# --- who gets what ----------------------------------------------------------------------


class OidcPolicy:
    """The file's rules for logins through the provider (pure; built from Settings)."""

    def __init__(self, settings: Settings, group_paths: bool = False) -> None:
        oidc = settings.auth.oidc
        if oidc is None:
            raise ValueError("OidcPolicy needs an oidc auth section")
        self.oidc = oidc
        self.title = settings.project.title
        self.group_paths = group_paths
        self.users = {u.name: u for u in settings.users}
        self.groups = {g.name: g for g in settings.groups}
        self.allowed_groups = {self._norm(g) for g in oidc.allowed_groups}
        self.admin_groups = {self._norm(g) for g in oidc.admin_groups}
        self.group_map = {self._norm(k): v for k, v in oidc.group_map.items()}
        self.reserved = set(oidc.reserved_names)

    def _norm(self, group: str) -> str:
        return group.lstrip("/") if self.group_paths else group

    def provider_groups(self, value: object) -> list[str]:
        """The groups claim as a sorted list of names (a single string counts as one group)."""
        if isinstance(value, str):
            items: Iterable[object] = [value]
        elif isinstance(value, (list, tuple, set)):
            items = value
        else:
            return []
        return sorted({self._norm(g) for g in items if isinstance(g, str) and g})

    def mapped_groups(self, provider_groups: Iterable[str]) -> set[str]:
        out: set[str] = set()
        for g in provider_groups:
            target = self.group_map.get(self._norm(g), self._norm(g))
            if target in self.groups:
                out.add(target)
        return out

    def platform_groups(self, name: str, provider_groups: Iterable[str]) -> list[str]:
        listed = self.users.get(name)
        own = set(listed.groups) if listed else set()
        return sorted(own | self.mapped_groups(provider_groups))

    def allowed(self, name: str, provider_groups: Iterable[str]) -> bool:
        if not self.oidc.linux_accounts:
            # no account can be made at login: the file's users only, whatever their groups
            return name in self.users
        mine = {self._norm(g) for g in provider_groups}
        return name in self.users or bool(mine & (self.allowed_groups | self.admin_groups))

    def is_admin(self, name: str, provider_groups: Iterable[str]) -> bool:
        listed = self.users.get(name)
        return bool(listed and listed.admin) or bool({self._norm(g) for g in provider_groups} & self.admin_groups)

    def refusal(self, name: str, provider_groups: Iterable[str]) -> str:
        if not self.oidc.linux_accounts:
            return (
                f"{name} is not a user of {self.title}: the name is not listed in the platform's users. "
                "Ask an admin to add you."
            )
        mine = sorted(provider_groups)
        groups = f"your groups there ({', '.join(mine)}) are" if mine else "you are in no group there that is"
        return (
            f"{name} is not a user of {self.title}: the name is not listed in the platform's users, "
            f"and {groups} not allowed to log in. Ask an admin to add you."
        )

    def home(self, name: str) -> str:
        listed = self.users.get(name)
        return listed.home if listed else os.path.join(self.oidc.home_dir, name)

    def shell(self, name: str) -> str:
        listed = self.users.get(name)
        return listed.shell if listed else self.oidc.default_shell

    def shared_folders(self, groups: Iterable[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for g in groups:
            folder = self.groups[g].shared_folder if g in self.groups else None
            if folder:
                out[g] = folder
        return out

    def name_problem(self, name: str) -> str | None:
        """Why a name from a claim can't be an account, or None."""
        if not name or not NAME_PATTERN.match(name):
            return f"{name!r} is not a valid Linux user name"
        if name in self.reserved:
            return f"{name} is a system name and can't be a user of {self.title}"
        return None


# --- the record of accounts made at login -----------------------------------------------


@dataclass
class AccountRecord:
    #: The username claim's value that took this name.
    claim: str
    #: Atrium made the Linux account at login (destroy --purge removes it).
    created: bool
    #: The provider's groups at the last login, as sent.
    groups: list[str] = field(default_factory=list)
    last_login: str = ""


class AccountRecords:
    """`accounts_file`: {"version": 1, "accounts": {name: record}}, root-only, replaced atomically."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)

    def load(self) -> dict[str, AccountRecord]:
        if not self.path.exists():
            return {}
        try:
            data = contract.load("oidc-accounts", self.path, "damaged record of accounts made at login")
        except contract.ContractError as e:
            raise OidcSetupError(f"{self.path} is damaged; fix or remove it\n{e}") from None
        return {
            name: AccountRecord(r["claim"], r["created"], list(r.get("groups", [])), r.get("last_login", ""))
            for name, r in data["accounts"].items()
        }

    def save(self, records: Mapping[str, AccountRecord]) -> None:
        data = {
            "version": 1,
            "accounts": {
                name: {"claim": r.claim, "created": r.created, "groups": r.groups, "last_login": r.last_login}
                for name, r in sorted(records.items())
            },
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".oidc-accounts.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f, indent=2)
                f.write("\n")
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


@dataclass(frozen=True)
class Members:
    """Who the hub knows at start: the file's users and the people who logged in and are still allowed."""

    users: list[str]
    admins: list[str]
    groups: dict[str, list[str]]


def platform_members(settings: Settings) -> Members:
    """Users, admins and hub groups at hub start.

    With OIDC, people who logged in before keep what their last login gave them
    (their provider groups are remembered), judged by the current file.
    """
    file_groups = {u.name: sorted(u.groups) for u in settings.users}
    admins = {u.name for u in settings.users if u.admin}
    oidc = settings.auth.oidc
    if oidc is None:
        return Members(sorted(file_groups), sorted(admins), file_groups)
    preset = preset_of(oidc)
    policy = OidcPolicy(settings, group_paths=bool(preset and preset.group_paths))
    groups = dict(file_groups)
    for name, record in AccountRecords(oidc.accounts_file).load().items():
        if not policy.allowed(name, record.groups):
            continue
        groups[name] = policy.platform_groups(name, record.groups)
        if policy.is_admin(name, record.groups):
            admins.add(name)
    return Members(sorted(groups), sorted(admins), groups)
