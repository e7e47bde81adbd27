from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jinja2
import pytest
from conftest import COOKIE_SECRET_HEX, RENDERED_HUB_CONFIG_PY, write_json, write_secret
from jupyterhub._data import DATA_FILES_PATH
from jupyterhub.app import JupyterHub
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from atrium_hub.auth import AtriumPasswordAuthenticator
from atrium_hub.hubconfig import IDLE_CULLER_SCOPES, apply, templates_dir
from atrium_hub.secretfiles import SecretFileError
from atrium_hub.settings import parse_settings
from atrium_hub.spawner import AtriumSpawner


def applied(data: dict[str, Any]) -> Config:
    c = Config()
    apply(c, parse_settings(data))
    return c


def test_hub_urls_database_and_secrets(secret_data: dict[str, Any]) -> None:
    c = applied(secret_data)
    assert c.JupyterHub.hub_bind_url == "http://127.0.0.1:8081"
    assert c.JupyterHub.bind_url == "http://127.0.0.1:8000/"
    assert c.JupyterHub.public_url == "http://127.0.0.1:8000/"
    assert c.JupyterHub.db_url == "sqlite:////var/lib/atrium/hub/jupyterhub.sqlite"
    assert c.JupyterHub.cookie_secret == bytes.fromhex(COOKIE_SECRET_HEX)
    assert c.JupyterHub.cleanup_servers is False
    assert c.JupyterHub.proxy_class == "jupyterhub.proxy.ConfigurableHTTPProxy"
    assert c.ConfigurableHTTPProxy.should_start is False
    assert c.ConfigurableHTTPProxy.api_url == "http://127.0.0.1:8001"
    assert c.ConfigurableHTTPProxy.auth_token == "proxy-token-value"


def test_base_url_follows_from_bind_url(secret_data: dict[str, Any]) -> None:
    secret_data["hub"]["base_url"] = "/jupyter/"
    secret_data["hub"]["public_url"] = "https://hub.example.org"
    hub = JupyterHub(config=applied(secret_data))
    assert hub.base_url == "/jupyter/"
    assert hub.public_url == "https://hub.example.org/jupyter/"
    assert hub.hub_bind_url == "http://127.0.0.1:8081"


def test_no_public_url_leaves_redirects_to_each_request(secret_data: dict[str, Any]) -> None:
    secret_data["hub"]["public_url"] = None
    secret_data["hub"]["base_url"] = "/jupyter/"
    hub = JupyterHub(config=applied(secret_data))
    assert hub.public_url == ""
    assert hub.base_url == "/jupyter/"


def test_authentication_and_allowed_users(secret_data: dict[str, Any]) -> None:
    c = applied(secret_data)
    assert c.JupyterHub.authenticator_class is AtriumPasswordAuthenticator
    assert c.AtriumPasswordAuthenticator.password_file == secret_data["auth"]["password_file"]
    assert c.Authenticator.allowed_users == {"alice", "bob", "carol"}
    assert c.Authenticator.allow_existing_users is False
    assert c.Authenticator.allow_all is False
    assert c.Authenticator.admin_users == set()


def test_groups_with_members_and_the_removal_list(secret_data: dict[str, Any]) -> None:
    c = applied(secret_data)
    assert c.JupyterHub.load_groups == {
        "data": {
            "users": ["alice", "carol"],
            "properties": {"description": "Data team", "shared_folder": "/srv/atrium/shared/data"},
        },
        "gpu": {"users": ["carol"], "properties": {"description": "", "shared_folder": "/srv/atrium/shared/gpu"}},
    }
    assert c.GroupSyncMixin.atrium_user_groups == {"alice": ["data"], "bob": [], "carol": ["data", "gpu"]}


def test_spawner(secret_data: dict[str, Any]) -> None:
    c = applied(secret_data)
    assert c.JupyterHub.spawner_class is AtriumSpawner
    assert c.Spawner.cmd == ["/opt/atrium/venvs/user/bin/jupyterhub-singleuser"]
    assert c.Spawner.default_url == "/lab"
    assert (c.Spawner.http_timeout, c.Spawner.start_timeout) == (120, 180)
    assert c.Spawner.environment == {"ATRIUM_PROJECT": "team"}
    assert c.AtriumSpawner.profiles == secret_data["profiles"]
    assert c.AtriumSpawner.cgroup_mode == "v1"
    assert c.AtriumSpawner.cgroup_v1_root == "/sys/fs/cgroup"
    assert c.AtriumSpawner.cgroup_parent == "atrium/team/users"
    assert c.AtriumSpawner.path_prepend == ["/opt/atrium/venvs/user/bin"]
    assert c.AtriumSpawner.user_homes == {"alice": "/home/alice", "bob": "/home/bob", "carol": "/home/carol"}
    assert c.AtriumSpawner.user_shells == {"alice": "/bin/bash", "bob": "/bin/sh", "carol": "/bin/bash"}


def test_idle_culler_service_and_its_exact_role(secret_data: dict[str, Any]) -> None:
    secret_data["idle_culler"]["max_age"] = 86400
    c = applied(secret_data)
    assert c.JupyterHub.services == [
        {
            "name": "idle-culler",
            "command": [
                "/usr/bin/setpriv",
                "--pdeathsig",
                "TERM",
                "--",
                "/opt/atrium/venvs/hub/bin/python",
                "-m",
                "jupyterhub_idle_culler",
                "--timeout=3600",
                "--cull-every=600",
                "--max-age=86400",
            ],
        }
    ]
    assert c.JupyterHub.load_roles == [
        {
            "name": "atrium-idle-culler",
            "description": "Stop idle user servers",
            "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
            "services": ["idle-culler"],
        },
        {"name": "admin", "users": ["alice"], "services": []},
    ]
    assert IDLE_CULLER_SCOPES == ["list:users", "read:users:activity", "read:servers", "delete:servers"]


def test_idle_culler_reaches_the_hub_inside_its_pod_when_the_hub_has_a_connect_url(
    secret_data: dict[str, Any],
) -> None:
    secret_data["hub"]["bind_url"] = "http://0.0.0.0:8081/"
    secret_data["hub"]["connect_url"] = "http://hub:8081"
    command = applied(secret_data).JupyterHub.services[0]["command"]
    assert command[-1] == "--url=http://127.0.0.1:8081/hub/api"


def test_idle_culler_takes_the_hubs_own_api_url_without_a_connect_url(secret_data: dict[str, Any]) -> None:
    command = applied(secret_data).JupyterHub.services[0]["command"]
    assert not any(part.startswith("--url") for part in command)


def test_services_tokens_and_roles(secret_data: dict[str, Any], tmp_path: Path) -> None:
    token_file = write_secret(tmp_path / "secrets/envs_token", "envs-token-value\n")
    secret_data["idle_culler"]["enabled"] = False
    secret_data["services"] = [
        {"name": "envs", "url": "http://127.0.0.1:9100", "api_token_file": token_file, "scopes": ["read:users"]},
        {"name": "ops", "admin": True, "oauth_no_confirm": False, "oauth_redirect_uri": "http://x/cb"},
        {"name": "api-only", "api_token_file": token_file},
    ]
    c = applied(secret_data)
    assert c.JupyterHub.services == [
        {"name": "envs", "url": "http://127.0.0.1:9100", "api_token": "envs-token-value", "oauth_no_confirm": True},
        {"name": "ops", "oauth_redirect_uri": "http://x/cb", "oauth_no_confirm": False},
        {"name": "api-only", "api_token": "envs-token-value"},
    ]
    assert c.JupyterHub.load_roles == [
        {
            "name": "atrium-service-envs",
            "description": "Scopes of the envs service",
            "scopes": ["read:users"],
            "services": ["envs"],
        },
        {"name": "admin", "users": ["alice"], "services": ["ops"]},
    ]


def test_pages(secret_data: dict[str, Any]) -> None:
    secret_data["project"]["welcome"] = "Hi <team>"
    c = applied(secret_data)
    assert c.JupyterHub.template_paths == [templates_dir()]
    assert Path(templates_dir(), "atrium-password.html").is_file()
    assert c.JupyterHub.template_vars == {
        "atrium_project": "team",
        "atrium_title": "Team platform",
        "atrium_welcome": "Hi <team>",
        "announcement_home": 'Hi &lt;team&gt; <a href="/hub/atrium/password">Change your password</a>',
    }


def render_login_page(template_vars: dict[str, Any]) -> str:
    """The login page as JupyterHub renders it: its template paths first, then its own
    templates (also reachable as templates/...), autoescaped."""
    base = str(Path(DATA_FILES_PATH, "templates"))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [
                jinja2.FileSystemLoader([templates_dir()]),
                jinja2.PrefixLoader({"templates": jinja2.FileSystemLoader([base])}, "/"),
                jinja2.FileSystemLoader([base]),
            ]
        ),
        autoescape=True,
    )
    return env.get_template("login.html").render(
        **template_vars,
        base_url="/hub/",
        prefix="/",
        static_url=lambda path, **_: f"/hub/static/{path}",
        authenticator_login_url="/hub/login",
        authenticator=AtriumPasswordAuthenticator(),
        xsrf="token",
        parsed_scopes=set(),
    )


def test_login_page_shows_title_and_welcome(secret_data: dict[str, Any]) -> None:
    secret_data["project"]["welcome"] = "Hi <team>, use the password your admin gave you."
    html = render_login_page(applied(secret_data).JupyterHub.template_vars)
    assert "<title>Team platform</title>" in html
    assert '<h1 id="atrium-title">Team platform</h1>' in html
    assert '<p id="atrium-welcome" class="lead">Hi &lt;team&gt;, use the password your admin gave you.</p>' in html
    assert 'id="username_input"' in html, "JupyterHub's form is gone"
    assert html.count("Hi &lt;team&gt;") == 1, "the welcome text is shown twice"


def test_login_page_without_welcome_shows_the_title_only(secret_data: dict[str, Any]) -> None:
    secret_data["project"]["welcome"] = ""
    html = render_login_page(applied(secret_data).JupyterHub.template_vars)
    assert '<h1 id="atrium-title">Team platform</h1>' in html
    assert "atrium-welcome" not in html


def test_unsafe_or_bad_secret_files_are_refused(secret_data: dict[str, Any]) -> None:
    cookie = secret_data["hub"]["cookie_secret_file"]
    os.chmod(cookie, 0o644)
    with pytest.raises(SecretFileError) as info:
        applied(secret_data)
    assert str(info.value) == f"cookie secret file {cookie}: mode 0644 lets group or others read it; use chmod 600"

    write_secret(Path(cookie), "zz" * 32)
    with pytest.raises(SecretFileError) as info:
        applied(secret_data)
    assert str(info.value) == f"cookie secret file {cookie}: is not hex text; write 64 hex characters"

    write_secret(Path(cookie), "ab" * 16)
    with pytest.raises(SecretFileError) as info:
        applied(secret_data)
    assert str(info.value) == f"cookie secret file {cookie}: holds 16 bytes; JupyterHub needs 32 (64 hex characters)"

    write_secret(Path(cookie), COOKIE_SECRET_HEX)
    token = secret_data["proxy"]["auth_token_file"]
    os.chmod(token, 0o640)
    with pytest.raises(SecretFileError) as info:
        applied(secret_data)
    assert "proxy-token-value" not in str(info.value)
    assert str(info.value) == f"proxy auth token file {token}: mode 0640 lets group or others read it; use chmod 600"

    os.unlink(token)
    with pytest.raises(SecretFileError) as info:
        applied(secret_data)
    assert str(info.value) == f"proxy auth token file {token}: cannot read it: No such file or directory"


def test_the_static_config_file_loads_the_json_named_by_the_env(
    secret_data: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATRIUM_HUB_CONFIG", str(write_json(tmp_path / "hub.json", secret_data)))
    path = RENDERED_HUB_CONFIG_PY
    c = PyFileConfigLoader(path.name, path=str(path.parent)).load_config()
    assert c.JupyterHub.spawner_class is AtriumSpawner
    assert c.Authenticator.allowed_users == {"alice", "bob", "carol"}


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to take on another group")
def test_a_secret_readable_by_the_hubs_own_group_only_is_accepted(tmp_path: Path) -> None:
    # As a Kubernetes Secret volume gives it: root's file, the pod's fsGroup may read it.
    gid = 4242
    secret = tmp_path / "token"
    secret.write_text("value\n")
    os.chown(secret, 0, gid)
    tmp_path.chmod(0o755)

    def as_group(mode: int) -> str:
        os.chmod(secret, mode)
        code = (
            "import os, sys\n"
            f"os.setegid({gid})\n"
            "from atrium_hub.secretfiles import read_secret, SecretFileError\n"
            "try:\n"
            f"    print(read_secret({str(secret)!r}, 'token'))\n"
            "except SecretFileError as e:\n"
            "    print(e)\n"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        return out.stdout.strip()

    assert as_group(0o440) == "value"
    assert as_group(0o444).endswith("mode 0444 lets group or others read it; use chmod 600")
    assert as_group(0o460).endswith("mode 0460 lets group or others read it; use chmod 600")
