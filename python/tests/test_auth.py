from __future__ import annotations

from pathlib import Path

import pytest
from traitlets.config import Config

from atrium_hub.auth import AtriumPasswordAuthenticator, PasswordChangeHandler
from atrium_hub.passwords import PasswordStore


@pytest.fixture
def authenticator(tmp_path: Path) -> AtriumPasswordAuthenticator:
    path = tmp_path / "passwords.json"
    store = PasswordStore(path, rounds=4)
    store.set("alice", "alice password")
    store.set("mallory", "mallory password")  # has a hash but is not in the config
    c = Config()
    c.AtriumPasswordAuthenticator.password_file = str(path)
    c.Authenticator.allowed_users = {"alice", "bob"}
    c.Authenticator.allow_existing_users = False
    return AtriumPasswordAuthenticator(config=c)


async def test_correct_password_logs_in(authenticator: AtriumPasswordAuthenticator) -> None:
    assert await authenticator.authenticate(None, {"username": "alice", "password": "alice password"}) == "alice"
    # names are normalized the way JupyterHub does (lowercase) before the check
    assert await authenticator.authenticate(None, {"username": "Alice", "password": "alice password"}) == "alice"


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("alice", "wrong password"),
        ("bob", "alice password"),  # allowed but has no password yet
        ("mallory", "mallory password"),  # right password, not in the config
        ("alice", ""),
        ("", "alice password"),
    ],
)
async def test_refused_logins(authenticator: AtriumPasswordAuthenticator, username: str, password: str) -> None:
    assert await authenticator.authenticate(None, {"username": username, "password": password}) is None


async def test_unreadable_password_file_refuses_login(authenticator: AtriumPasswordAuthenticator) -> None:
    Path(authenticator.password_file).write_text("not json")
    assert await authenticator.authenticate(None, {"username": "alice", "password": "alice password"}) is None


def test_password_page_is_registered(authenticator: AtriumPasswordAuthenticator) -> None:
    handlers = dict(authenticator.get_handlers(app=None))
    assert handlers["/atrium/password"] is PasswordChangeHandler
    assert "/login" in handlers
