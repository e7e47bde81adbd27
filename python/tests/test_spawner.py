from __future__ import annotations

import logging
import os
import re
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyterhub import orm
from jupyterhub.objects import Hub
from jupyterhub.user import User
from tornado import web
from traitlets.config import Config

from atrium_hub.spawner import AtriumSpawner

GiB = 1024**3
is_root = os.geteuid() == 0


def spawner_config(data: dict[str, Any], **overrides: Any) -> Config:
    c = Config()
    c.AtriumSpawner.profiles = data["profiles"]
    c.AtriumSpawner.path_prepend = data["spawner"]["path_prepend"]
    c.AtriumSpawner.user_homes = {u["name"]: u["home"] for u in data["users"]}
    c.AtriumSpawner.user_shells = {u["name"]: u["shell"] for u in data["users"]}
    c.Spawner.environment = data["spawner"]["environment"]
    c.AtriumSpawner.cgroup_mode = "off"
    for key, value in overrides.items():
        setattr(c.AtriumSpawner, key, value)
    return c


def make_spawner(db: Any, name: str, config: Config, user_options: dict[str, Any] | None = None) -> AtriumSpawner:
    orm_user = db.query(orm.User).filter_by(name=name).one()
    user = User(orm_user, settings={"config": config, "hub": Hub()})
    spawner = user._new_spawner("", spawner_class=AtriumSpawner)
    assert isinstance(spawner, AtriumSpawner)
    spawner.user_options = user_options or {}
    return spawner


def radio_values(html: str) -> list[str]:
    return re.findall(r'type="radio" name="profile"\s+id="[^"]+" value="([^"]+)"', html)


def checked_value(html: str) -> str | None:
    m = re.search(r'value="([^"]+)"\s*checked', html)
    return m.group(1) if m else None


@pytest.mark.parametrize(
    ("user", "expected", "checked"),
    [
        ("alice", ["small", "large"], "small"),
        ("bob", ["small", "gpu"], "small"),
        ("carol", ["small", "large", "gpu"], "small"),
        ("dave", ["small"], "small"),
    ],
)
async def test_form_lists_only_the_users_profiles(
    db: Any, data: dict[str, Any], user: str, expected: list[str], checked: str
) -> None:
    html = await make_spawner(db, user, spawner_config(data)).get_options_form()
    assert radio_values(html) == expected
    assert checked_value(html) == checked


async def test_form_preselects_first_allowed_when_default_is_not_allowed(db: Any, data: dict[str, Any]) -> None:
    data["profiles"][0]["groups"] = ["gpu"]  # small (the default) now only for gpu members
    html = await make_spawner(db, "alice", spawner_config(data)).get_options_form()
    assert radio_values(html) == ["large"]
    assert checked_value(html) == "large"


async def test_form_escapes_profile_text(db: Any, data: dict[str, Any]) -> None:
    data["profiles"][0]["description"] = "<script>alert(1)</script> & more"
    html = await make_spawner(db, "dave", spawner_config(data)).get_options_form()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html


async def test_no_profiles_means_no_form_and_no_limits(db: Any, data: dict[str, Any]) -> None:
    data["profiles"] = []
    spawner = make_spawner(db, "alice", spawner_config(data), {"profile": "anything"})
    assert await spawner.get_options_form() == ""
    assert spawner.apply_profile() is None
    assert spawner.mem_limit is None


async def test_form_with_no_allowed_profile_says_so(db: Any, data: dict[str, Any]) -> None:
    data["profiles"] = data["profiles"][1:]
    html = await make_spawner(db, "dave", spawner_config(data)).get_options_form()
    assert radio_values(html) == []
    assert "No profile is available to you." in html


def test_options_from_form() -> None:
    spawner = AtriumSpawner()
    assert spawner.options_from_form({"profile": ["gpu"]}) == {"profile": "gpu"}
    assert spawner.options_from_form({}) == {}


@pytest.mark.parametrize(
    "user_options",
    [
        pytest.param("form", id="form"),
        pytest.param({"profile": "gpu"}, id="rest-json"),
    ],
)
async def test_start_refuses_a_forbidden_profile(db: Any, data: dict[str, Any], user_options: Any) -> None:
    spawner = make_spawner(db, "alice", spawner_config(data))
    if user_options == "form":
        user_options = spawner.run_options_from_form({"profile": ["gpu"], "_xsrf": ["x"]})
    spawner.user_options = user_options
    with pytest.raises(web.HTTPError) as info:
        await spawner.start()
    assert info.value.status_code == 403
    assert str(info.value) == "HTTP 403: Forbidden (alice may not use the profile 'gpu'.)"
    assert spawner.proc is None and spawner.pid == 0


async def test_start_refuses_an_unknown_profile(db: Any, data: dict[str, Any]) -> None:
    spawner = make_spawner(db, "alice", spawner_config(data), {"profile": "100%"})
    with pytest.raises(web.HTTPError) as info:
        await spawner.start()
    assert info.value.status_code == 403
    assert str(info.value) == "HTTP 403: Forbidden (There is no profile '100%'.)"


async def test_the_options_hook_defers_the_check_to_start(db: Any, data: dict[str, Any]) -> None:
    spawner = make_spawner(db, "bob", spawner_config(data), {"profile": "large"})
    spawner.apply_user_options(spawner, spawner.user_options)  # JupyterHub >= 5.3 calls this first
    with pytest.raises(web.HTTPError) as info:
        await spawner.start()
    assert info.value.status_code == 403


def test_allowed_profile_sets_limits(db: Any, data: dict[str, Any]) -> None:
    spawner = make_spawner(db, "alice", spawner_config(data), {"profile": "large"})
    assert spawner.apply_profile().name == "large"  # type: ignore[union-attr]
    assert (spawner.mem_limit, spawner.mem_guarantee) == (16 * GiB, None)
    assert (spawner.cpu_limit, spawner.cpu_guarantee) == (4.0, 1.0)
    assert spawner.profile_name == "large"
    assert spawner._limits().pids_limit == 8192

    spawner.user_options = {}
    assert spawner.apply_profile().name == "small"  # type: ignore[union-attr]
    assert (spawner.mem_limit, spawner.mem_guarantee) == (4 * GiB, GiB)
    assert (spawner.cpu_limit, spawner.cpu_guarantee) == (2.0, 0.5)


def test_group_membership_grants_profiles(db: Any, data: dict[str, Any]) -> None:
    carol = make_spawner(db, "carol", spawner_config(data), {"profile": "gpu"})
    assert carol.apply_profile().name == "gpu"  # type: ignore[union-attr]
    orm_carol = db.query(orm.User).filter_by(name="carol").one()
    orm_carol.groups = [g for g in orm_carol.groups if g.name != "gpu"]
    db.commit()
    with pytest.raises(web.HTTPError):
        carol.apply_profile()


def test_environment(db: Any, data: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIRTUAL_ENV", "/opt/atrium/venvs/hub")
    monkeypatch.setenv("PYTHONPATH", "/hub/only")
    monkeypatch.setenv("LANG", "C.UTF-8")
    env = make_spawner(db, "bob", spawner_config(data)).get_env()
    assert env["PATH"] == "/opt/atrium/venvs/user/bin:/usr/local/bin:/usr/bin:/bin"
    assert (env["HOME"], env["SHELL"], env["USER"]) == ("/home/bob", "/bin/sh", "bob")
    assert env["ATRIUM_PROJECT"] == "team"
    assert env["LANG"] == "C.UTF-8"
    assert "VIRTUAL_ENV" not in env and "PYTHONPATH" not in env


def test_environment_path_from_config_is_kept_after_prepend(db: Any, data: dict[str, Any]) -> None:
    data["spawner"]["environment"] = {"PATH": "/usr/bin:/bin"}
    env = make_spawner(db, "bob", spawner_config(data)).get_env()
    assert env["PATH"] == "/opt/atrium/venvs/user/bin:/usr/bin:/bin"


def test_managed_environment_kernels_are_on_jupyter_path(db: Any, data: dict[str, Any]) -> None:
    config = spawner_config(data)
    config.AtriumSpawner.kernels_dir = "/opt/atrium/environments/.kernels"
    env = make_spawner(db, "bob", config).get_env()
    assert env["JUPYTER_PATH"] == "/opt/atrium/environments/.kernels/bob"
    assert "JUPYTER_PATH" not in make_spawner(db, "alice", spawner_config(data)).get_env()


def test_state_records_the_cgroup(db: Any, data: dict[str, Any], tmp_path: Path) -> None:
    config = spawner_config(data, cgroup_mode="v1", cgroup_v1_root=str(tmp_path), cgroup_parent="atrium/t/users")
    spawner = make_spawner(db, "alice", config, {"profile": "large"})
    spawner.apply_profile()
    assert spawner.prepare_limits() == []
    record = {
        "mode": "v1",
        "dirs": {"memory": f"{tmp_path}/memory/atrium/t/users/alice", "cpu": f"{tmp_path}/cpu/atrium/t/users/alice"},
    }
    assert spawner.get_state() == {"atrium_cgroup": record, "atrium_profile": "large"}
    assert (tmp_path / "memory/atrium/t/users/alice/memory.limit_in_bytes").read_text() == str(16 * GiB)
    assert (tmp_path / "cpu/atrium/t/users/alice/cpu.cfs_quota_us").read_text() == "400000"

    restored = make_spawner(db, "alice", config)
    restored.load_state({"pid": 42, "atrium_cgroup": record, "atrium_profile": "large"})
    assert (restored.pid, restored.cgroup_record, restored.profile_name) == (42, record, "large")
    restored.clear_state()
    assert restored.get_state() == {}


def test_cgroup_failure_warns_and_spawns_without(
    db: Any, data: dict[str, Any], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    spawner = make_spawner(db, "alice", spawner_config(data, cgroup_mode="v1", cgroup_v1_root=str(not_a_dir)))
    spawner.apply_profile()
    with caplog.at_level(logging.WARNING):
        assert spawner.prepare_limits() == []
    assert spawner.cgroup_record == {}
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("No memory limit for alice: cannot set up its cgroup") for m in messages)
    assert any(m.startswith("No cpu limit for alice: cannot set up its cgroup") for m in messages)


def test_v2_prefix_and_record(db: Any, data: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(AtriumSpawner, "systemd_available", lambda self: True)
    spawner = make_spawner(db, "root", spawner_config(data, cgroup_mode="v2-systemd", cgroup_parent="atrium/t/users"))
    spawner.apply_profile()
    prefix = spawner.prepare_limits()
    unit = spawner.cgroup_record["unit"]
    assert re.fullmatch(r"atrium-server-root-[0-9a-f]{8}\.scope", unit)
    assert spawner.cgroup_record == {"mode": "v2-systemd", "unit": unit, "slice": "atrium-t-users.slice"}
    assert prefix == [
        "systemd-run", "--scope", "--quiet", "--collect", "--slice=atrium-t-users.slice", f"--unit={unit}",
        "--uid=root", "--gid=0", "-p", f"MemoryMax={4 * GiB}", "-p", "MemorySwapMax=0",
        "-p", f"MemoryLow={GiB}", "-p", "CPUQuota=200%", "-p", "CPUWeight=50", "-p", "TasksMax=4096", "--",
    ]  # fmt: skip


def test_v2_without_systemd_warns_and_spawns_without(
    db: Any, data: dict[str, Any], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(AtriumSpawner, "systemd_available", lambda self: False)
    spawner = make_spawner(db, "root", spawner_config(data, cgroup_mode="v2-systemd"))
    with caplog.at_level(logging.WARNING):
        assert spawner.prepare_limits() == []
    assert spawner.cgroup_record == {}
    assert "No limits for root: systemd is not running or systemd-run is missing; starting it anyway" in [
        r.getMessage() for r in caplog.records
    ]


@pytest.fixture
def sockets_dir() -> Iterator[str]:
    """A short folder users can pass (pytest's tmp_path is root-only and long for a socket path)."""
    d = Path(tempfile.mkdtemp(prefix="atsp-", dir="/tmp"))
    d.chmod(0o711)
    yield str(d / "servers")
    shutil.rmtree(d, ignore_errors=True)


# stands in for the server: listens on the socket given as --ServerApp.sock=, then sleeps
SLEEPER = [
    sys.executable,
    "-c",
    "import socket, sys, time; "
    "path = [a.split('=', 1)[1] for a in sys.argv if a.startswith('--ServerApp.sock=')][0]; "
    "s = socket.socket(socket.AF_UNIX); s.bind(path); s.listen(); time.sleep(60)",
]


@pytest.mark.skipif(not is_root, reason="starts a process as a Linux user; needs root")
async def test_start_v1_child_joins_the_cgroup_before_exec(
    db: Any, data: dict[str, Any], tmp_path: Path, sockets_dir: str
) -> None:
    config = spawner_config(
        data, cgroup_mode="v1", cgroup_v1_root=str(tmp_path), cgroup_parent="p", sockets_dir=sockets_dir
    )
    config.Spawner.cmd = SLEEPER
    spawner = make_spawner(db, "root", config)
    try:
        await spawner.start()
        assert spawner.cmd == SLEEPER
        for controller in ("memory", "cpu"):
            assert (tmp_path / controller / "p/root/cgroup.procs").read_text() == str(spawner.pid)
        assert spawner.get_state()["atrium_cgroup"]["mode"] == "v1"
    finally:
        await spawner.stop(now=True)
    assert spawner.get_state() == {}


@pytest.mark.skipif(not is_root, reason="starts a process as a Linux user; needs root")
async def test_start_v2_runs_the_server_through_systemd_run(
    db: Any, data: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sockets_dir: str
) -> None:
    monkeypatch.setattr(AtriumSpawner, "systemd_available", lambda self: True)
    record = tmp_path / "args"
    fake = tmp_path / "systemd-run"
    # stands in for systemd-run: records its arguments, then execs what follows "--"
    fake.write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$@" > {record}\nwhile [ "$1" != "--" ]; do shift; done\nshift\nexec "$@"\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    config = spawner_config(
        data, cgroup_mode="v2-systemd", systemd_run=str(fake), systemctl="/bin/true", sockets_dir=sockets_dir
    )
    config.Spawner.cmd = SLEEPER
    spawner = make_spawner(db, "root", config)
    try:
        await spawner.start()
        for _ in range(100):
            if record.exists() and record.read_text():
                break
            await __import__("asyncio").sleep(0.05)
        args = record.read_text().splitlines()
        assert args[:4] == ["--scope", "--quiet", "--collect", "--slice=atrium-users.slice"]
        assert args[args.index("--") + 1 :][: len(SLEEPER)] == SLEEPER
        assert spawner.cmd == SLEEPER
        assert await spawner.poll() is None
    finally:
        await spawner.stop(now=True)


async def test_start_refuses_without_a_sockets_dir(db: Any, data: dict[str, Any]) -> None:
    spawner = make_spawner(db, "alice", spawner_config(data))
    with pytest.raises(web.HTTPError) as e:
        await spawner.start()
    assert "sockets_dir is not set" in str(e.value.log_message)
    assert spawner.proc is None
