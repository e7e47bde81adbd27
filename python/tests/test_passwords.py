from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from atrium_hub.passwords import PasswordFileError, PasswordStore, password_problem

PYTHON_DIR = Path(__file__).resolve().parents[1]


@pytest.fixture
def store(tmp_path: Path) -> PasswordStore:
    return PasswordStore(tmp_path / "passwords.json", rounds=4)


def test_set_and_verify(store: PasswordStore) -> None:
    store.set("alice", "correct horse")
    assert store.verify("alice", "correct horse") is True
    assert store.verify("alice", "correct horsE") is False
    assert store.verify("bob", "correct horse") is False
    hashed = json.loads(store.path.read_text())["alice"]
    assert hashed.startswith("$2b$04$")
    assert "correct horse" not in store.path.read_text()


def test_file_is_0600_and_owned_by_the_writer(store: PasswordStore) -> None:
    store.path.write_text("{}")
    os.chmod(store.path, 0o644)
    store.set("alice", "password1")
    st = store.path.stat()
    assert stat.S_IMODE(st.st_mode) == 0o600
    assert st.st_uid == os.geteuid()
    if os.geteuid() == 0:
        assert (st.st_uid, st.st_gid) == (0, 0)


def test_write_is_atomic_and_leaves_no_temp_files(store: PasswordStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store.set("alice", "password1")
    before = store.path.read_text()

    def fail(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(PasswordFileError) as info:
        store.set("bob", "password2")
    assert str(info.value) == f"cannot write {store.path}: No space left on device"
    assert store.path.read_text() == before
    assert sorted(p.name for p in store.path.parent.iterdir()) == ["passwords.json", "passwords.json.lock"]


def test_concurrent_writers_do_not_lose_updates(store: PasswordStore) -> None:
    users = [f"user{i}" for i in range(8)]
    threads = [threading.Thread(target=store.set, args=(u, f"password-{u}")) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(store.read()) == users
    assert store.verify("user5", "password-user5")


def test_delete(store: PasswordStore) -> None:
    store.set("alice", "password1")
    store.set("bob", "password2")
    assert store.delete("alice") is True
    assert store.delete("alice") is False
    assert list(store.read()) == ["bob"]


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "The password must have at least 8 characters."),
        ("é" * 37, "The password may have at most 72 bytes."),
        (" leading space", "The password may not start or end with spaces."),
        ("trailing cr\r", "The password may not start or end with spaces."),
        ("good password", None),
    ],
)
def test_password_policy(password: str, problem: str | None) -> None:
    assert password_problem(password) == problem


def test_policy_is_enforced_on_set(store: PasswordStore) -> None:
    with pytest.raises(ValueError) as info:
        store.set("alice", "short")
    assert str(info.value) == "The password must have at least 8 characters."
    assert not store.path.exists()


def test_malformed_files_are_reported(store: PasswordStore) -> None:
    store.path.write_text("[1, 2]")
    with pytest.raises(PasswordFileError) as info:
        store.verify("alice", "x")
    assert str(info.value) == f"{store.path} must hold a JSON object of user name to bcrypt hash"
    store.path.write_text("{")
    with pytest.raises(PasswordFileError) as info:
        store.read()
    assert str(info.value) == f"{store.path} is not valid JSON (line 1)"


def test_a_bad_hash_or_overlong_input_is_a_failed_check(store: PasswordStore) -> None:
    store.path.write_text(json.dumps({"alice": "not-a-hash"}))
    assert store.verify("alice", "password1") is False
    store.set("bob", "password2")
    assert store.verify("bob", "x" * 100) is False


def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "atrium_hub.passwords", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=PYTHON_DIR,
        timeout=60,
    )


def test_cli_set_check_delete(tmp_path: Path) -> None:
    f = str(tmp_path / "pw.json")
    assert cli("set", "--file", f, "--user", "alice", stdin="first password\n").returncode == 0
    assert stat.S_IMODE(os.stat(f).st_mode) == 0o600
    assert cli("check", "--file", f, "--user", "alice", stdin="first password\n").returncode == 0
    assert cli("check", "--file", f, "--user", "alice", stdin="first passwor\n").returncode == 1
    assert cli("check", "--file", f, "--user", "bob", stdin="first password\n").returncode == 1
    assert cli("delete", "--file", f, "--user", "alice").returncode == 0
    assert cli("check", "--file", f, "--user", "alice", stdin="first password\n").returncode == 1


def test_cli_refuses_bad_input(tmp_path: Path) -> None:
    f = str(tmp_path / "pw.json")
    short = cli("set", "--file", f, "--user", "alice", stdin="short\n")
    assert (short.returncode, short.stderr) == (2, "error: The password must have at least 8 characters.\n")
    bad_user = cli("set", "--file", f, "--user", "../x", stdin="long enough\n")
    assert (bad_user.returncode, bad_user.stderr) == (2, "error: '../x' is not a valid user name\n")
    Path(f).write_text("nope")
    broken = cli("check", "--file", f, "--user", "alice", stdin="long enough\n")
    assert (broken.returncode, broken.stderr) == (2, f"error: {f} is not valid JSON (line 1)\n")
