"""Shared fixtures: a contract-shaped hub JSON with real secret files in tmp_path."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyterhub import orm

COOKIE_SECRET_HEX = "ab" * 32

BASE: dict[str, Any] = {
    "version": 1,
    "project": {"name": "team", "title": "Team platform", "welcome": "Hello"},
    "hub": {
        "bind_url": "http://127.0.0.1:8081",
        "public_url": "http://127.0.0.1:8000",
        "base_url": "/",
        "data_dir": "/var/lib/atrium/hub",
        "db_url": "sqlite:////var/lib/atrium/hub/jupyterhub.sqlite",
        "cookie_secret_file": "/var/lib/atrium/secrets/cookie_secret",
    },
    "proxy": {"api_url": "http://127.0.0.1:8001", "auth_token_file": "/var/lib/atrium/secrets/proxy_auth_token"},
    "auth": {"type": "password", "password_file": "/var/lib/atrium/secrets/passwords.json"},
    "users": [
        {"name": "alice", "admin": True, "groups": ["data"], "home": "/home/alice", "shell": "/bin/bash"},
        {"name": "bob", "admin": False, "groups": [], "home": "/home/bob", "shell": "/bin/sh"},
        {"name": "carol", "admin": False, "groups": ["data", "gpu"], "home": "/home/carol", "shell": "/bin/bash"},
    ],
    "groups": [
        {"name": "data", "description": "Data team", "shared_folder": "/srv/atrium/shared/data"},
        {"name": "gpu", "description": "", "shared_folder": "/srv/atrium/shared/gpu"},
    ],
    "profiles": [
        {
            "name": "small",
            "display_name": "Small",
            "description": "2 CPU, 4 GiB",
            "cpu_limit": 2,
            "cpu_guarantee": 0.5,
            "mem_limit": 4294967296,
            "mem_guarantee": 1073741824,
            "pids_limit": 4096,
            "gpus": 0,
            "default": True,
            "groups": [],
            "users": [],
        },
        {
            "name": "large",
            "display_name": "Large",
            "description": "4 CPU, 16 GiB",
            "cpu_limit": 4,
            "cpu_guarantee": 1,
            "mem_limit": 17179869184,
            "mem_guarantee": 0,
            "pids_limit": 8192,
            "gpus": 0,
            "default": False,
            "groups": ["data"],
            "users": [],
        },
        {
            "name": "gpu",
            "display_name": "GPU",
            "description": "1 GPU",
            "cpu_limit": 0,
            "cpu_guarantee": 0,
            "mem_limit": 0,
            "mem_guarantee": 0,
            "pids_limit": 4096,
            "gpus": 1,
            "default": False,
            "groups": ["gpu"],
            "users": ["bob"],
        },
    ],
    "spawner": {
        "cmd": ["/opt/atrium/venvs/user/bin/jupyterhub-singleuser"],
        "default_url": "/lab",
        "path_prepend": ["/opt/atrium/venvs/user/bin"],
        "environment": {"ATRIUM_PROJECT": "team"},
        "cgroup": {"mode": "v1", "v1_root": "/sys/fs/cgroup", "parent": "atrium/team/users"},
        "sockets_dir": "/var/lib/atrium/run/servers",
    },
    "idle_culler": {
        "enabled": True,
        "timeout": 3600,
        "every": 600,
        "max_age": 0,
        "python": "/opt/atrium/venvs/hub/bin/python",
    },
    "services": [],
    "videochat": {
        "enabled": True,
        "jitsi_domain": "meet.jit.si",
        "project": "team",
        "group_rooms": [{"group": "data", "room_name": "team-data"}, {"group": "gpu", "room_name": "team-gpu"}],
        "rooms": [{"name": "standup", "room_name": "team-standup"}],
    },
}


def contract() -> dict[str, Any]:
    """A fresh deep copy of the contract example (tests mutate it)."""
    return copy.deepcopy(BASE)


def write_secret(path: Path, text: str, mode: int = 0o600) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, mode)
    return str(path)


@pytest.fixture
def data() -> dict[str, Any]:
    return contract()


@pytest.fixture
def secret_data(tmp_path: Path) -> dict[str, Any]:
    """The contract with its secret files really present (0600) under tmp_path."""
    d = contract()
    secrets = tmp_path / "secrets"
    d["hub"]["cookie_secret_file"] = write_secret(secrets / "cookie_secret", COOKIE_SECRET_HEX + "\n")
    d["proxy"]["auth_token_file"] = write_secret(secrets / "proxy_auth_token", "proxy-token-value\n")
    d["auth"]["password_file"] = str(secrets / "passwords.json")
    return d


def write_json(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value))
    return path


#: The static file `jupyterhub -f` loads, as the TypeScript render writes it (a golden file).
RENDERED_HUB_CONFIG_PY = (
    Path(__file__).resolve().parents[2] / "test" / "golden" / "team" / "hub" / "jupyterhub_config.py"
)


@pytest.fixture
def db(data: dict[str, Any]) -> Iterator[Any]:
    """A real hub database with the contract's users and group memberships."""
    session = orm.new_session_factory("sqlite:///:memory:")()
    groups = {g["name"]: orm.Group(name=g["name"]) for g in data["groups"]}
    session.add_all(groups.values())
    for u in [*data["users"], {"name": "dave", "groups": []}, {"name": "root", "groups": []}]:
        user = orm.User(name=u["name"])
        user.groups = [groups[g] for g in u["groups"]]
        session.add(user)
    session.commit()
    yield session
    session.close()
