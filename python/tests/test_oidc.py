"""The pure side of single sign-on: settings, presets, names, groups, admins, the account record."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from atrium_hub.oidc import (
    AccountRecord,
    AccountRecords,
    Endpoints,
    OidcPolicy,
    OidcSetupError,
    platform_members,
    posix_name,
    resolve_provider,
    take_client_secret,
)
from atrium_hub.settings import SettingsError, parse_settings

ISSUER = "https://id.example.com/realms/team"


def oidc_auth(tmp_path: Path, **over: Any) -> dict[str, Any]:
    auth: dict[str, Any] = {
        "type": "oidc",
        "preset": None,
        "issuer": ISSUER,
        "client_id": "atrium",
        "client_secret_env": "OIDC_CLIENT_SECRET",
        "username_claim": None,
        "groups_claim": None,
        "scopes": None,
        "allowed_groups": ["staff"],
        "admin_groups": ["platform-admins"],
        "group_map": {"data-science": "data"},
        "linux_accounts": True,
        "home_dir": "/home",
        "default_shell": "/bin/bash",
        "shared_dir": "/srv/atrium/shared",
        "accounts_file": str(tmp_path / "oidc-accounts.json"),
        "reserved_names": ["root", "admin", "sudo"],
    }
    auth.update(over)
    return auth


@pytest.fixture
def oidc_data(tmp_path: Path, data: dict[str, Any]) -> dict[str, Any]:
    data["auth"] = oidc_auth(tmp_path)
    return data


def problems(data: Any) -> list[str]:
    with pytest.raises(SettingsError) as info:
        parse_settings(data, "hub.json")
    return [f"{p.key}  {p.message}" for p in info.value.problems]


def discovery(issuer: str = ISSUER, **over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/protocol/openid-connect/auth",
        "token_endpoint": f"{issuer}/protocol/openid-connect/token",
        "userinfo_endpoint": f"{issuer}/protocol/openid-connect/userinfo",
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    }
    doc.update(over)
    return doc


class FakeFetch:
    def __init__(self, doc: Any) -> None:
        self.doc = doc
        self.urls: list[str] = []

    def __call__(self, url: str) -> Any:
        self.urls.append(url)
        return self.doc


# --- settings ----------------------------------------------------------------------------


def test_oidc_section_parses(oidc_data: dict[str, Any]) -> None:
    s = parse_settings(oidc_data)
    assert s.auth.type == "oidc"
    assert s.auth.password_file == ""
    oidc = s.auth.oidc
    assert oidc is not None
    assert oidc.issuer == ISSUER
    assert oidc.allowed_groups == ("staff",)
    assert oidc.group_map == {"data-science": "data"}
    assert oidc.scopes is None
    assert oidc.reserved_names == ("root", "admin", "sudo")


def test_oidc_section_problems_are_all_reported(tmp_path: Path, oidc_data: dict[str, Any]) -> None:
    oidc_data["auth"].update(
        preset="gitlab",
        client_id="",
        client_secret_env="not a name",
        scopes=[],
        group_map={"data-science": "nope", "x": "Bad Name"},
        home_dir="home",
        extra=1,
    )
    assert problems(oidc_data) == [
        'auth.preset  "gitlab" is not one of github, google, keycloak, auth0',
        'auth.client_id  expected a non-empty string, got ""',
        'auth.client_secret_env  expected an environment variable name, got "not a name"',
        "auth.scopes  must not be empty",
        "auth.group_map.x  expected a name of a-z, 0-9, _ and -, starting with a letter or _ (at most 32),"
        ' got "Bad Name"',
        'auth.home_dir  expected an absolute path, got "home"',
        "auth.extra  unknown key",
        'auth.group_map.data-science  unknown group "nope"; groups are: data, gpu',
    ]


def test_group_map_must_name_groups_of_the_file(oidc_data: dict[str, Any]) -> None:
    oidc_data["auth"]["group_map"] = {"data-science": "nope"}
    assert problems(oidc_data) == ['auth.group_map.data-science  unknown group "nope"; groups are: data, gpu']


@pytest.mark.parametrize(("preset", "ok"), [(None, False), ("keycloak", False), ("auth0", False), ("github", True)])
def test_issuer_is_required_unless_the_preset_knows_it(oidc_data: dict[str, Any], preset: str | None, ok: bool) -> None:
    oidc_data["auth"].update(preset=preset, issuer=None)
    if ok:
        assert parse_settings(oidc_data).auth.oidc is not None
    else:
        which = f"preset {preset}" if preset else "no preset"
        assert problems(oidc_data) == [
            f"auth.issuer  is required with {which}; only github and google know their issuer"
        ]


def test_password_auth_still_needs_its_file(data: dict[str, Any]) -> None:
    del data["auth"]["password_file"]
    assert problems(data) == ["auth.password_file  missing"]


# --- presets and discovery -----------------------------------------------------------------


def test_discovery_fills_in_endpoints_and_oidc_defaults(oidc_data: dict[str, Any]) -> None:
    fetch = FakeFetch(discovery())
    p = resolve_provider(parse_settings(oidc_data).auth.oidc, fetch)  # type: ignore[arg-type]
    assert fetch.urls == [f"{ISSUER}/.well-known/openid-configuration"]
    assert p.endpoints == Endpoints(
        f"{ISSUER}/protocol/openid-connect/auth",
        f"{ISSUER}/protocol/openid-connect/token",
        f"{ISSUER}/protocol/openid-connect/userinfo",
    )
    assert (p.username_claim, p.groups_claim, p.scopes) == (
        "preferred_username",
        "groups",
        ("openid", "profile", "email"),
    )
    assert p.login_service == "id.example.com"
    assert p.basic_auth is False
    assert p.github_api_url == ""


def test_keycloak_preset_and_explicit_claims(oidc_data: dict[str, Any]) -> None:
    oidc_data["auth"].update(
        preset="keycloak", username_claim="email", groups_claim="roles", scopes=["openid", "groups"]
    )
    p = resolve_provider(parse_settings(oidc_data).auth.oidc, FakeFetch(discovery()))  # type: ignore[arg-type]
    assert (p.login_service, p.username_claim, p.groups_claim, p.scopes) == (
        "Keycloak",
        "email",
        "roles",
        ("openid", "groups"),
    )
    assert p.group_paths is True


def test_google_preset_discovers_its_own_issuer(oidc_data: dict[str, Any]) -> None:
    oidc_data["auth"].update(preset="google", issuer=None)
    google = "https://accounts.google.com"
    fetch = FakeFetch(discovery(google, token_endpoint_auth_methods_supported=["client_secret_post"]))
    p = resolve_provider(parse_settings(oidc_data).auth.oidc, fetch)  # type: ignore[arg-type]
    assert fetch.urls == [f"{google}/.well-known/openid-configuration"]
    assert (p.login_service, p.username_claim, p.issuer) == ("Google", "email", google)


def test_auth0_preset_uses_email_and_keeps_the_tenant_issuer(oidc_data: dict[str, Any]) -> None:
    tenant = "https://acme.eu.auth0.com/"
    oidc_data["auth"].update(preset="auth0", issuer=tenant)
    fetch = FakeFetch(discovery(tenant))
    p = resolve_provider(parse_settings(oidc_data).auth.oidc, fetch)  # type: ignore[arg-type]
    assert fetch.urls == ["https://acme.eu.auth0.com/.well-known/openid-configuration"]
    assert (p.login_service, p.username_claim) == ("Auth0", "email")


def test_github_preset_needs_no_discovery(oidc_data: dict[str, Any]) -> None:
    oidc_data["auth"].update(preset="github", issuer=None)
    fetch = FakeFetch(None)
    p = resolve_provider(parse_settings(oidc_data).auth.oidc, fetch)  # type: ignore[arg-type]
    assert fetch.urls == []
    assert p.endpoints == Endpoints(
        "https://github.com/login/oauth/authorize",
        "https://github.com/login/oauth/access_token",
        "https://api.github.com/user",
    )
    assert (p.username_claim, p.scopes, p.github_api_url) == (
        "login",
        ("read:user", "read:org"),
        "https://api.github.com",
    )


def test_github_enterprise_server(oidc_data: dict[str, Any]) -> None:
    oidc_data["auth"].update(preset="github", issuer="https://git.example.com/")
    p = resolve_provider(parse_settings(oidc_data).auth.oidc, FakeFetch(None))  # type: ignore[arg-type]
    assert p.endpoints.token_url == "https://git.example.com/login/oauth/access_token"
    assert p.github_api_url == "https://git.example.com/api/v3"


def test_basic_auth_when_the_provider_does_not_take_the_secret_in_the_form(oidc_data: dict[str, Any]) -> None:
    oidc = parse_settings(oidc_data).auth.oidc
    doc = discovery()
    del doc["token_endpoint_auth_methods_supported"]
    assert resolve_provider(oidc, FakeFetch(doc)).basic_auth is True  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (discovery("https://evil.example.com"), "names the issuer 'https://evil.example.com', not"),
        (discovery(userinfo_endpoint=None), "has no userinfo_endpoint"),
        ([], "is not an OpenID Connect discovery document"),
    ],
)
def test_bad_discovery_documents(oidc_data: dict[str, Any], doc: Any, message: str) -> None:
    with pytest.raises(OidcSetupError, match=message):
        resolve_provider(parse_settings(oidc_data).auth.oidc, FakeFetch(doc))  # type: ignore[arg-type]


def test_unreachable_issuer_is_a_setup_error(oidc_data: dict[str, Any]) -> None:
    oidc_data["auth"]["issuer"] = "http://127.0.0.1:9/realms/none"
    with pytest.raises(OidcSetupError, match=r"cannot read http://127\.0\.0\.1:9/realms/none/\.well-known"):
        resolve_provider(parse_settings(oidc_data).auth.oidc)  # type: ignore[arg-type]


def test_client_secret_is_taken_out_of_the_environment() -> None:
    env = {"OIDC_CLIENT_SECRET": "s3cret", "OTHER": "x"}
    assert take_client_secret("OIDC_CLIENT_SECRET", env) == "s3cret"
    assert env == {"OTHER": "x"}
    with pytest.raises(OidcSetupError, match=r"^\$OIDC_CLIENT_SECRET is not set in the hub's environment"):
        take_client_secret("OIDC_CLIENT_SECRET", env)


# --- names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claim", "name"),
    [
        ("ana", "ana"),
        ("e2eabcd_ana-b", "e2eabcd_ana-b"),
        ("Ana", "ana"),
        ("Ana.Smith@Example.com", "ana_smith_example_com"),
        ("José Núñez", "jose_nunez"),
        ("42", "u42"),
        ("-dash", "u-dash"),
        ("_under", "_under"),
        ("a" * 40, "a" * 32),
        ("ÅSA", "asa"),
        ("渡辺", "__"),
        ("", ""),
    ],
)
def test_posix_name(claim: str, name: str) -> None:
    assert posix_name(claim) == name


def test_posix_name_leaves_valid_names_alone() -> None:
    for name in ("alice", "bob_2", "x-y", "_svc"):
        assert posix_name(posix_name(name)) == name


# --- groups and admins ---------------------------------------------------------------------


@pytest.fixture
def policy(oidc_data: dict[str, Any]) -> OidcPolicy:
    return OidcPolicy(parse_settings(oidc_data))


def test_provider_groups_map_onto_the_files_groups(policy: OidcPolicy) -> None:
    # explicit map, same name, and unknown groups ignored
    assert policy.platform_groups("dave", ["data-science", "gpu", "marketing"]) == ["data", "gpu"]
    # the file's own groups for a listed user stay, provider groups add to them
    assert policy.platform_groups("carol", []) == ["data", "gpu"]
    assert policy.platform_groups("bob", ["gpu"]) == ["gpu"]
    assert policy.platform_groups("bob", []) == []


def test_groups_claim_shapes(policy: OidcPolicy) -> None:
    assert policy.provider_groups(["b", "a", "a", 3, ""]) == ["a", "b"]
    assert policy.provider_groups("solo") == ["solo"]
    assert policy.provider_groups(None) == []
    assert policy.provider_groups({"not": "a list"}) == []


def test_keycloak_group_paths(oidc_data: dict[str, Any]) -> None:
    oidc_data["auth"]["allowed_groups"] = ["/staff"]
    policy = OidcPolicy(parse_settings(oidc_data), group_paths=True)
    groups = policy.provider_groups(["/data-science", "/gpu", "/staff"])
    assert groups == ["data-science", "gpu", "staff"]
    assert policy.platform_groups("dave", groups) == ["data", "gpu"]
    assert policy.allowed("dave", groups)


def test_who_may_log_in(policy: OidcPolicy) -> None:
    assert policy.allowed("bob", [])  # listed in users
    assert policy.allowed("dave", ["staff"])  # allowed group
    assert policy.allowed("erin", ["platform-admins"])  # admin groups let in too
    assert not policy.allowed("mallory", ["data-science", "gpu"])  # mapped groups alone don't
    assert policy.refusal("mallory", ["data-science", "gpu"]) == (
        "mallory is not a user of Team platform: the name is not listed in the platform's users, "
        "and your groups there (data-science, gpu) are not allowed to log in. Ask an admin to add you."
    )
    assert "you are in no group there that is not allowed" in policy.refusal("mallory", [])


def test_admins_by_name_or_group(policy: OidcPolicy) -> None:
    assert policy.is_admin("alice", [])
    assert policy.is_admin("dave", ["platform-admins"])
    assert not policy.is_admin("bob", ["staff"])


def test_homes_shells_folders_and_names(policy: OidcPolicy) -> None:
    assert (policy.home("bob"), policy.shell("bob")) == ("/home/bob", "/bin/sh")
    assert (policy.home("dave"), policy.shell("dave")) == ("/home/dave", "/bin/bash")
    assert policy.shared_folders(["data", "gpu", "gone"]) == {
        "data": "/srv/atrium/shared/data",
        "gpu": "/srv/atrium/shared/gpu",
    }
    assert policy.name_problem("dave") is None
    assert policy.name_problem("admin") == "admin is a system name and can't be a user of Team platform"
    assert policy.name_problem("__") is None
    assert policy.name_problem("") == "'' is not a valid Linux user name"


# --- the account record and the members at hub start ---------------------------------------


def test_records_round_trip_root_only(tmp_path: Path) -> None:
    store = AccountRecords(str(tmp_path / "hub" / "oidc-accounts.json"))
    assert store.load() == {}
    store.save({"dave": AccountRecord(claim="Dave", created=True, groups=["staff"], last_login="t")})
    assert store.load() == {"dave": AccountRecord(claim="Dave", created=True, groups=["staff"], last_login="t")}
    assert (store.path.stat().st_mode & 0o777) == 0o600


def test_damaged_record_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "oidc-accounts.json"
    path.write_text('{"accounts": {"dave": {}}}')
    with pytest.raises(OidcSetupError, match="oidc-accounts.json is damaged"):
        AccountRecords(str(path)).load()


def test_a_record_with_a_wrong_value_is_damaged_too(tmp_path: Path) -> None:
    path = tmp_path / "oidc-accounts.json"
    path.write_text('{"version": 1, "accounts": {"dave": {"claim": "Dave", "created": "yes"}}}')
    with pytest.raises(OidcSetupError) as info:
        AccountRecords(str(path)).load()
    assert str(info.value).endswith(f'  {path}  accounts.dave.created  expected boolean, got "yes"')


def test_members_at_hub_start_include_earlier_logins(tmp_path: Path, oidc_data: dict[str, Any]) -> None:
    AccountRecords(oidc_data["auth"]["accounts_file"]).save(
        {
            "dave": AccountRecord(claim="Dave", created=True, groups=["staff", "data-science"]),
            "erin": AccountRecord(claim="erin", created=True, groups=["platform-admins"]),
            # no longer allowed: not listed, and marketing is not an allowed group
            "mallory": AccountRecord(claim="mallory", created=True, groups=["marketing"]),
            "bob": AccountRecord(claim="bob", created=False, groups=["gpu"]),
        }
    )
    m = platform_members(parse_settings(oidc_data))
    assert m.users == ["alice", "bob", "carol", "dave", "erin"]
    assert m.admins == ["alice", "erin"]
    assert m.groups == {"alice": ["data"], "bob": ["gpu"], "carol": ["data", "gpu"], "dave": ["data"], "erin": []}


def test_members_with_password_auth_are_the_files(data: dict[str, Any]) -> None:
    m = platform_members(parse_settings(data))
    assert (m.users, m.admins) == (["alice", "bob", "carol"], ["alice"])
