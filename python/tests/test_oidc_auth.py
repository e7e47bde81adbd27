"""The OIDC authenticator through JupyterHub's own login steps, with a stand-in for the Linux side."""

from __future__ import annotations

import json
import os
import pwd
import threading
from collections.abc import Iterator, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from jupyterhub import orm
from test_oidc import ISSUER, FakeFetch, discovery, oidc_auth
from tornado import web
from traitlets.config import Config

from atrium_hub import hubconfig
from atrium_hub.linux_accounts import AccountError, LinuxAccounts
from atrium_hub.oidc import AccountRecord, AccountRecords, OidcSetupError
from atrium_hub.oidc_auth import AtriumOIDCAuthenticator, configure
from atrium_hub.settings import Settings, parse_settings
from atrium_hub.videochat import VideoChatHandler


class FakeLinux(LinuxAccounts):
    """Accounts and groups in memory; records what would have run."""

    def __init__(self, users: Sequence[str] = (), groups: Sequence[str] = ("data", "gpu")) -> None:
        self.users: dict[str, pwd.struct_passwd] = {}
        self.groups = set(groups)
        self.members: dict[str, set[str]] = {}
        self.log: list[str] = []
        self.fail = False
        for name in users:
            self._add(name, f"/home/{name}")

        async def run(argv: Sequence[str]) -> None:
            if self.fail:
                raise AccountError(f"{argv[0]} failed: cannot lock /etc/group")
            self.log.append(" ".join(argv))
            if argv[:2] == ["gpasswd", "-a"]:
                self.members.setdefault(argv[2], set()).add(argv[3])
            elif argv[:2] == ["gpasswd", "-d"]:
                self.members.setdefault(argv[2], set()).discard(argv[3])
            elif argv[0] == "useradd":
                self._add(argv[-1], argv[argv.index("-d") + 1])

        super().__init__(run=run)

    def _add(self, name: str, home: str) -> None:
        uid = 2000 + len(self.users)
        self.users[name] = pwd.struct_passwd((name, "x", uid, uid, "", home, "/bin/bash"))

    def lookup(self, name: str) -> pwd.struct_passwd | None:
        return self.users.get(name)

    def group_exists(self, name: str) -> bool:
        return name in self.groups

    def member_of(self, name: str) -> set[str]:
        return set(self.members.get(name, set()))

    def sync_links(self, entry: pwd.struct_passwd, home: str, folders: Mapping[str, str], shared_dir: str) -> list[str]:
        self.log.append(f"links {entry.pw_name}: {', '.join(sorted(folders))}")
        return []


@pytest.fixture
def settings(tmp_path: Path, data: dict[str, Any]) -> Settings:
    data["auth"] = oidc_auth(tmp_path)
    return parse_settings(data)


def make(settings: Settings, linux: FakeLinux, environ: dict[str, str] | None = None) -> AtriumOIDCAuthenticator:
    c = Config()
    configure(
        c,
        settings,
        services_role="atrium-user-services",
        environ={"OIDC_CLIENT_SECRET": "s3cret"} if environ is None else environ,
        fetch=FakeFetch(discovery()),
    )
    auth = AtriumOIDCAuthenticator(config=c)
    auth.linux = linux
    return auth


async def login(auth: AtriumOIDCAuthenticator, info: dict[str, Any]) -> dict[str, Any] | None:
    """JupyterHub's get_authenticated_user, with the provider's answer stubbed at the userinfo step."""

    async def token_to_user(token_info: dict[str, Any]) -> dict[str, Any]:
        return info

    async def authenticate(handler: Any, data: Any = None) -> Any:
        return await auth._token_to_auth_model({"access_token": "token", "token_type": "Bearer"})

    auth.token_to_user = token_to_user  # type: ignore[method-assign]
    auth.authenticate = authenticate  # type: ignore[method-assign]
    result: dict[str, Any] | None = await auth.get_authenticated_user(None, None)
    return result


async def refused(auth: AtriumOIDCAuthenticator, info: dict[str, Any]) -> tuple[int, str]:
    with pytest.raises(web.HTTPError) as e:
        await login(auth, info)
    return e.value.status_code, e.value.jupyterhub_message  # type: ignore[attr-defined]


def records(settings: Settings) -> dict[str, AccountRecord]:
    assert settings.auth.oidc is not None
    return AccountRecords(settings.auth.oidc.accounts_file).load()


# --- configuration ------------------------------------------------------------------------


def test_configure_sets_up_generic_oauth(settings: Settings) -> None:
    c = Config()
    env = {"OIDC_CLIENT_SECRET": "s3cret", "PATH": "/bin"}
    configure(c, settings, services_role="r", environ=env, fetch=FakeFetch(discovery()))
    a = c.AtriumOIDCAuthenticator
    assert c.JupyterHub.authenticator_class is AtriumOIDCAuthenticator
    assert (a.client_id, a.client_secret) == ("atrium", "s3cret")
    assert a.authorize_url == f"{ISSUER}/protocol/openid-connect/auth"
    assert a.token_url == f"{ISSUER}/protocol/openid-connect/token"
    assert a.userdata_url == f"{ISSUER}/protocol/openid-connect/userinfo"
    assert a.scope == ["openid", "profile", "email"]
    assert a.username_claim == "preferred_username"
    assert a.manage_groups is True
    assert a.login_service == "id.example.com"
    assert a.startup_groups == {"alice": ["data"], "bob": [], "carol": ["data", "gpu"]}
    assert env == {"PATH": "/bin"}  # the secret left the environment


def test_configure_refuses_without_the_secret(settings: Settings) -> None:
    with pytest.raises(OidcSetupError, match=r"\$OIDC_CLIENT_SECRET is not set"):
        configure(Config(), settings, environ={}, fetch=FakeFetch(discovery()))


@pytest.fixture
def live_issuer() -> Iterator[str]:
    """A discovery document served over real HTTP on 127.0.0.1."""
    holder: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            body = json.dumps(discovery(holder["issuer"])).encode()
            ok = self.path == "/realms/team/.well-known/openid-configuration"
            self.send_response(200 if ok else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body if ok else b"{}")

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    holder["issuer"] = f"http://127.0.0.1:{server.server_address[1]}/realms/team"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield holder["issuer"]
    server.shutdown()
    server.server_close()


def test_hubconfig_applies_oidc_without_load_groups_or_password_page(
    secret_data: dict[str, Any], tmp_path: Path, live_issuer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret_data["auth"] = oidc_auth(tmp_path, issuer=live_issuer)
    monkeypatch.setenv("OIDC_CLIENT_SECRET", "s3cret")
    c = Config()
    hubconfig.apply(c, parse_settings(secret_data))
    assert c.JupyterHub.authenticator_class is AtriumOIDCAuthenticator
    assert c.AtriumOIDCAuthenticator.token_url == f"{live_issuer}/protocol/openid-connect/token"
    assert c.AtriumOIDCAuthenticator.client_secret == "s3cret"
    assert "OIDC_CLIENT_SECRET" not in os.environ
    assert "load_groups" not in c.JupyterHub
    assert "password" not in c.JupyterHub.template_vars["announcement_home"]
    admin = next(r for r in c.JupyterHub.load_roles if r["name"] == "admin")
    assert admin["users"] == ["alice"]


# --- logins ---------------------------------------------------------------------------------


async def test_first_login_of_a_group_member_makes_the_account(settings: Settings) -> None:
    linux = FakeLinux()
    auth = make(settings, linux)
    model = await login(auth, {"preferred_username": "Dave", "groups": ["staff", "data-science", "marketing"]})
    assert model is not None
    assert model["name"] == "dave"
    assert model["admin"] is False
    assert model["groups"] == ["data"]
    assert linux.log == [
        "useradd -m -d /home/dave -s /bin/bash -U dave",
        "usermod -L dave",
        "gpasswd -a dave data",
        "links dave: data",
    ]
    assert records(settings)["dave"].claim == "Dave"
    assert records(settings)["dave"].created is True
    assert records(settings)["dave"].groups == ["data-science", "marketing", "staff"]


async def test_next_login_follows_the_providers_groups(settings: Settings) -> None:
    linux = FakeLinux()
    auth = make(settings, linux)
    await login(auth, {"preferred_username": "dave", "groups": ["staff", "data-science"]})
    linux.log.clear()
    model = await login(auth, {"preferred_username": "dave", "groups": ["staff", "gpu", "platform-admins"]})
    assert model is not None
    assert (model["groups"], model["admin"]) == (["gpu"], True)
    assert linux.log == ["gpasswd -a dave gpu", "gpasswd -d dave data", "links dave: gpu"]
    assert records(settings)["dave"].created is True  # still the account Atrium made


async def test_listed_user_keeps_the_files_groups_and_account(settings: Settings) -> None:
    linux = FakeLinux(users=["carol"])
    auth = make(settings, linux)
    model = await login(auth, {"preferred_username": "carol", "groups": []})
    assert model is not None
    assert model["groups"] == ["data", "gpu"]
    assert not any(line.startswith("useradd") for line in linux.log)
    assert records(settings)["carol"].created is False


async def test_a_user_the_file_does_not_allow_is_refused(settings: Settings) -> None:
    linux = FakeLinux()
    status, message = await refused(make(settings, linux), {"preferred_username": "mallory", "groups": ["gpu"]})
    assert status == 403
    assert message.startswith("mallory is not a user of Team platform: the name is not listed")
    assert linux.log == []


async def test_two_claims_for_one_name_are_refused(settings: Settings) -> None:
    linux = FakeLinux()
    auth = make(settings, linux)
    await login(auth, {"preferred_username": "Dave", "groups": ["staff"]})
    status, message = await refused(auth, {"preferred_username": "dave", "groups": ["staff"]})
    assert status == 403
    assert message == (
        "Your preferred_username 'dave' gives the user name dave, which already belongs to someone else "
        "on Team platform. Ask an admin to sort it out."
    )


async def test_an_existing_account_of_someone_else_is_refused(settings: Settings) -> None:
    linux = FakeLinux(users=["dave"])
    status, message = await refused(make(settings, linux), {"preferred_username": "dave", "groups": ["staff"]})
    assert status == 403
    assert message.startswith("A Linux account named dave already exists on this machine and was not made for you")
    assert linux.log == []


async def test_a_name_taken_by_a_group_or_the_system_is_refused(settings: Settings) -> None:
    linux = FakeLinux(groups=["data", "gpu", "docker"])
    auth = make(settings, linux)
    _, message = await refused(auth, {"preferred_username": "docker", "groups": ["staff"]})
    assert message.startswith("The user name docker is taken by a group on this machine")
    status, message = await refused(auth, {"preferred_username": "Admin", "groups": ["staff"]})
    assert (status, message) == (
        403,
        "admin is a system name and can't be a user of Team platform. "
        "Ask an admin to give you another name at id.example.com.",
    )


async def test_missing_claim_and_unverified_email(settings: Settings) -> None:
    auth = make(settings, FakeLinux())
    status, message = await refused(auth, {"sub": "123", "groups": ["staff"]})
    assert status == 403
    assert message.startswith("id.example.com did not send the preferred_username claim")
    auth.provider = auth.provider.__class__(**{**auth.provider.__dict__, "username_claim": "email"})  # type: ignore[union-attr]
    _, message = await refused(auth, {"email": "d@x.org", "email_verified": False, "groups": ["staff"]})
    assert message == "id.example.com has not verified your e-mail address d@x.org."


async def test_a_failing_system_command_gives_a_clear_500(settings: Settings) -> None:
    linux = FakeLinux()
    linux.fail = True
    status, message = await refused(make(settings, linux), {"preferred_username": "dave", "groups": ["staff"]})
    assert (status, message) == (500, "Your account could not be set up; please tell an admin.")
    assert "dave" not in records(settings)


async def test_server_start_restores_groups_from_the_last_login(settings: Settings) -> None:
    linux = FakeLinux()
    auth = make(settings, linux)
    await login(auth, {"preferred_username": "dave", "groups": ["staff", "data-science"]})
    linux.members["dave"] = set()  # a deploy reset the groups to the file's lists
    linux.log.clear()

    class U:
        name = "dave"

    await auth.pre_spawn_start(U(), None)
    assert linux.log == ["gpasswd -a dave data", "links dave: data"]


async def test_github_teams_become_groups(tmp_path: Path, data: dict[str, Any]) -> None:
    data["auth"] = oidc_auth(tmp_path, preset="github", issuer=None, group_map={"acme/analysts": "data"})
    auth = make(parse_settings(data), FakeLinux())
    pages = [[{"slug": "analysts", "organization": {"login": "acme"}}] * 100, [{"slug": "x", "organization": {}}]]
    urls: list[str] = []

    async def httpfetch(url: str, *args: Any, **kwargs: Any) -> Any:
        urls.append(url)
        return {"login": "Dave"} if url.endswith("/user") else pages[len(urls) - 2]

    auth.httpfetch = httpfetch  # type: ignore[method-assign]
    info = await auth.token_to_user({"access_token": "t", "token_type": "bearer"})
    assert info["login"] == "Dave"
    assert set(info["groups"]) == {"acme/analysts"}
    assert urls[1:] == [
        "https://api.github.com/user/teams?per_page=100&page=1",
        "https://api.github.com/user/teams?per_page=100&page=2",
    ]


def test_handlers_have_video_chat_and_no_password_page(settings: Settings) -> None:
    handlers = dict(make(settings, FakeLinux()).get_handlers(app=None))
    assert handlers["/atrium/videochat"] is VideoChatHandler
    assert "/oauth_callback" in handlers
    assert "/atrium/password" not in handlers


# --- the hub side -------------------------------------------------------------------------------


@pytest.fixture
def db() -> Iterator[Any]:
    session = orm.new_session_factory("sqlite:///:memory:")()
    session.add(orm.Role(name="atrium-user-services", scopes=["access:services!service=dask-gateway"]))
    old = orm.Group(name="old")
    for name in ("alice", "dave", "mallory"):
        user = orm.User(name=name)
        user.groups = [old]
        session.add(user)
    session.commit()
    yield session
    session.close()


def test_hub_start_sets_groups_from_the_file_and_the_last_login(settings: Settings, db: Any) -> None:
    assert settings.auth.oidc is not None
    AccountRecords(settings.auth.oidc.accounts_file).save(
        {"dave": AccountRecord(claim="dave", created=True, groups=["staff", "data-science"])}
    )
    auth = make(settings, FakeLinux())
    for user in db.query(orm.User).all():  # what JupyterHub's init_users does
        auth.add_user(user)
    db.expire_all()
    groups = {u.name: sorted(g.name for g in u.groups) for u in db.query(orm.User)}
    assert groups == {"alice": ["data"], "dave": ["data"], "mallory": []}
    services = orm.Role.find(db, "atrium-user-services")
    assert sorted(u.name for u in services.users) == ["alice", "dave"]


# --- on a cluster: the file's users only, no Linux accounts -----------------------------------


@pytest.fixture
def cluster_settings(tmp_path: Path, data: dict[str, Any]) -> Settings:
    data["auth"] = oidc_auth(tmp_path, linux_accounts=False, allowed_groups=[], group_map={})
    return parse_settings(data)


async def test_on_a_cluster_a_listed_user_logs_in_without_touching_accounts(cluster_settings: Settings) -> None:
    linux = FakeLinux()
    auth = make(cluster_settings, linux)
    model = await login(auth, {"preferred_username": "carol", "groups": ["platform-admins"]})
    assert model is not None
    assert (model["name"], model["groups"], model["admin"]) == ("carol", ["data", "gpu"], True)
    assert linux.log == []
    assert records(cluster_settings)["carol"].created is False

    class U:
        name = "carol"

    await auth.pre_spawn_start(U(), None)
    assert linux.log == []


async def test_on_a_cluster_a_group_never_lets_someone_unlisted_in(cluster_settings: Settings) -> None:
    linux = FakeLinux()
    auth = make(cluster_settings, linux)
    # an admin group lets people in where the hub makes accounts; not where it can't
    status, message = await refused(auth, {"preferred_username": "dave", "groups": ["staff", "platform-admins"]})
    assert status == 403
    assert message == (
        "dave is not a user of Team platform: the name is not listed in the platform's users. Ask an admin to add you."
    )
    assert linux.log == []
    assert "dave" not in records(cluster_settings)


async def test_on_a_cluster_a_second_claim_for_a_listed_name_is_refused(cluster_settings: Settings) -> None:
    auth = make(cluster_settings, FakeLinux())
    await login(auth, {"preferred_username": "Carol", "groups": []})
    status, message = await refused(auth, {"preferred_username": "carol", "groups": []})
    assert status == 403
    assert "already belongs to someone else" in message
