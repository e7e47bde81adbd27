"""End to end: real JupyterHub, real configurable-http-proxy, a real Linux user.

Runs only as root with ATRIUM_IT=1 (`ATRIUM_IT=1 python -m pytest -m integration`).
Set ATRIUM_IT_CHP to an installed configurable-http-proxy to skip the npm install.
Everything it creates (processes, the Linux user, cgroups, temp dirs) is removed
in finally blocks, also when a step fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import RENDERED_HUB_CONFIG_PY

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        os.geteuid() != 0 or os.environ.get("ATRIUM_IT") != "1",
        reason="integration test: needs root and ATRIUM_IT=1",
    ),
]

VENV_BIN = Path(sys.executable).parent
PYTHON_DIR = Path(__file__).resolve().parents[1]
CGROUP_ROOT = Path("/sys/fs/cgroup")
MiB = 1024**2
PASSWORD = "first password"
NEW_PASSWORD = "second password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(what: str, check: Callable[[], Any], timeout: float = 90, interval: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


def pids_of_uid(uid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            uids = next(line.split()[1:] for line in status.splitlines() if line.startswith("Uid:"))
            if str(uid) in uids:
                pids.append(int(entry.name))
    return pids


def kill_pids(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def stop_process(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def remove_cgroup_tree(top: str) -> None:
    """Remove <root>/<controller>/<top> bottom-up, killing anything left inside."""
    for controller in ("memory", "cpu"):
        base = CGROUP_ROOT / controller / top
        if not base.exists():
            continue
        dirs = sorted((d for d in base.rglob("*") if d.is_dir()), key=lambda d: len(d.parts), reverse=True)
        for d in [*dirs, base]:
            procs = d / "cgroup.procs"
            if procs.exists():
                kill_pids([int(p) for p in procs.read_text().split()])
            for _ in range(50):
                try:
                    d.rmdir()
                    break
                except OSError:
                    time.sleep(0.1)


def write_secret(path: Path, text: str) -> str:
    path.write_text(text)
    path.chmod(0o600)
    return str(path)


@pytest.fixture(scope="module")
def chp() -> Iterator[str]:
    existing = os.environ.get("ATRIUM_IT_CHP")
    if existing:
        yield existing
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is needed to install configurable-http-proxy")
    prefix = tempfile.mkdtemp(prefix="athub-chp-")
    try:
        subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--prefix", prefix, "configurable-http-proxy"],
            check=True,
            capture_output=True,
            timeout=600,
        )
        yield str(Path(prefix, "node_modules/.bin/configurable-http-proxy"))
    finally:
        shutil.rmtree(prefix, ignore_errors=True)


@pytest.fixture
def linux_user() -> Iterator[pwd.struct_passwd]:
    name = "athub" + secrets.token_hex(4)
    subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", name], check=True, capture_output=True)
    entry = pwd.getpwnam(name)
    try:
        yield entry
    finally:
        kill_pids(pids_of_uid(entry.pw_uid))
        subprocess.run(["userdel", "--remove", name], capture_output=True)


@pytest.fixture
def workdir() -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="athub-it-"))
    d.chmod(0o711)  # the user's server reaches its socket folder below it
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


class Platform:
    """Ports, files and processes of one hub + proxy under test."""

    def __init__(self, workdir: Path, chp: str, user: pwd.struct_passwd) -> None:
        self.user = user.pw_name
        self.other = self.user + "x"  # in the config only, never a Linux account
        self.group = self.user + "g"
        self.hub_port, self.proxy_port, self.api_port = free_port(), free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.proxy_port}"
        self.cgroup_top = f"atrium-it-{secrets.token_hex(4)}"
        self.chp_bin = chp
        self.workdir = workdir
        self.data_dir = workdir / "hub"
        self.data_dir.mkdir()
        secret_dir = workdir / "secrets"
        secret_dir.mkdir(mode=0o700)
        self.proxy_token = secrets.token_hex(32)
        self.service_token = secrets.token_hex(32)
        self.files = {
            "cookie": write_secret(secret_dir / "cookie_secret", secrets.token_hex(32)),
            "proxy": write_secret(secret_dir / "proxy_auth_token", self.proxy_token),
            "service": write_secret(secret_dir / "service_token", self.service_token),
            "passwords": str(secret_dir / "passwords.json"),
        }
        self.config_path = workdir / "hub.json"
        self.hub: subprocess.Popen[bytes] | None = None
        self.proxy: subprocess.Popen[bytes] | None = None
        self.hub_log = workdir / "hub.log"

    def config(self, user_groups: list[str]) -> dict[str, Any]:
        home = f"/home/{self.user}"
        return {
            "version": 1,
            "project": {"name": "athubit", "title": "Integration", "welcome": "Welcome"},
            "hub": {
                "bind_url": f"http://127.0.0.1:{self.hub_port}",
                "public_url": self.url,
                "base_url": "/",
                "data_dir": str(self.data_dir),
                "db_url": f"sqlite:///{self.data_dir}/jupyterhub.sqlite",
                "cookie_secret_file": self.files["cookie"],
            },
            "proxy": {"api_url": f"http://127.0.0.1:{self.api_port}", "auth_token_file": self.files["proxy"]},
            "auth": {"type": "password", "password_file": self.files["passwords"]},
            "users": [
                {"name": self.user, "admin": False, "groups": user_groups, "home": home, "shell": "/bin/bash"},
                {"name": self.other, "admin": True, "groups": [], "home": "/nonexistent", "shell": "/bin/sh"},
            ],
            "groups": [{"name": self.group, "description": "test group", "shared_folder": "/nonexistent"}],
            "profiles": [
                self.profile("small", default=True, mem=512 * MiB, cpu=1),
                self.profile("big", groups=[self.group], mem=768 * MiB, cpu=2),
                self.profile("secret", users=[self.other], mem=256 * MiB, cpu=1),
            ],
            "spawner": {
                "cmd": [str(VENV_BIN / "jupyterhub-singleuser")],
                "default_url": "/api",
                "path_prepend": [str(VENV_BIN)],
                "environment": {},
                "cgroup": {"mode": "v1", "v1_root": str(CGROUP_ROOT), "parent": f"{self.cgroup_top}/users"},
                "sockets_dir": str(self.workdir / "servers"),
            },
            "idle_culler": {"enabled": True, "timeout": 3600, "every": 600, "max_age": 0, "python": sys.executable},
            "services": [
                {
                    "name": "athub-it",
                    "api_token_file": self.files["service"],
                    "scopes": ["read:groups", "list:services", "read:services"],
                    "admin": True,
                }
            ],
            "videochat": {
                "enabled": True,
                "jitsi_domain": "jitsi.example.org",
                "project": "athubit",
                "group_rooms": [{"group": self.group, "room_name": f"athubit-{self.group}"}],
                "rooms": [{"name": "all-hands", "room_name": "athubit-all-hands"}],
            },
        }

    @staticmethod
    def profile(
        name: str, *, mem: int, cpu: float, default: bool = False, groups: list[str] | None = None,
        users: list[str] | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        return {
            "name": name, "display_name": name.title(), "description": "", "cpu_limit": cpu, "cpu_guarantee": 0,
            "mem_limit": mem, "mem_guarantee": 0, "pids_limit": 4096, "gpus": 0, "default": default,
            "groups": groups or [], "users": users or [],
        }  # fmt: skip

    def write_config(self, user_groups: list[str]) -> None:
        self.config_path.write_text(json.dumps(self.config(user_groups), indent=2))

    def passwords_cli(self, command: str, password: str) -> int:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "atrium_hub.passwords",
                command,
                "--file",
                self.files["passwords"],
                "--user",
                self.user,
            ],
            input=password + "\n",
            text=True,
            cwd=PYTHON_DIR,
            capture_output=True,
            timeout=60,
        ).returncode

    def start_proxy(self) -> None:
        env = {"PATH": os.environ["PATH"], "CONFIGPROXY_AUTH_TOKEN": self.proxy_token}
        self.proxy = subprocess.Popen(
            [
                self.chp_bin, "--ip", "127.0.0.1", "--port", str(self.proxy_port),
                "--api-ip", "127.0.0.1", "--api-port", str(self.api_port),
                "--error-target", f"http://127.0.0.1:{self.hub_port}/hub/error",
            ],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(
            "the proxy API", lambda: self._answers(f"http://127.0.0.1:{self.api_port}/api/routes", self.proxy_token)
        )

    def start_hub(self) -> None:
        env = {
            "PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin",
            "HOME": "/root",
            "LANG": "C.UTF-8",
            "PYTHONPATH": str(PYTHON_DIR),
            "ATRIUM_HUB_CONFIG": str(self.config_path),
        }
        with open(self.hub_log, "ab") as log:
            self.hub = subprocess.Popen(
                [str(VENV_BIN / "jupyterhub"), "-f", str(RENDERED_HUB_CONFIG_PY)],
                cwd=self.data_dir, env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip

        def ready() -> bool:
            if self.hub is not None and self.hub.poll() is not None:
                raise AssertionError(f"the hub exited with {self.hub.returncode}:\n{self.hub_log.read_text()}")
            return self._answers(f"{self.url}/hub/api/", None)

        wait_for("the hub behind the proxy", ready)

    def stop_hub(self) -> None:
        stop_process(self.hub)
        self.hub = None

    @staticmethod
    def _answers(url: str, token: str | None) -> bool:
        headers = {"Authorization": f"token {token}"} if token else {}
        try:
            return requests.get(url, headers=headers, timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def api(self, method: str, path: str, token: str, **kwargs: Any) -> requests.Response:
        return requests.request(
            method, f"{self.url}/hub/api{path}", headers={"Authorization": f"token {token}"}, timeout=30, **kwargs
        )

    def close(self) -> None:
        stop_process(self.hub)
        stop_process(self.proxy)
        remove_cgroup_tree(self.cgroup_top)


def server_pid(uid: int) -> int | None:
    for pid in pids_of_uid(uid):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(part.endswith(b"jupyterhub-singleuser") for part in cmdline):
            return pid
    return None


def proc_cgroups(pid: int) -> dict[str, str]:
    out = {}
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for c in controllers.split(","):
            out[c] = path
    return out


def test_login_spawn_limits_password_change_and_group_removal(
    chp: str, linux_user: pwd.struct_passwd, workdir: Path
) -> None:
    p = Platform(workdir, chp, linux_user)
    name, uid = linux_user.pw_name, linux_user.pw_uid
    try:
        p.write_config(user_groups=[p.group])
        assert p.passwords_cli("set", PASSWORD) == 0
        p.start_proxy()
        p.start_hub()

        # log in through the real login form
        browser = requests.Session()
        assert browser.get(f"{p.url}/hub/login", timeout=30).status_code == 200
        xsrf = browser.cookies["_xsrf"]
        wrong = browser.post(
            f"{p.url}/hub/login",
            data={"username": name, "password": "not the password", "_xsrf": xsrf},
            allow_redirects=False,
            timeout=30,
        )
        assert wrong.status_code == 403
        login = browser.post(
            f"{p.url}/hub/login",
            data={"username": name, "password": PASSWORD, "_xsrf": xsrf},
            allow_redirects=False,
            timeout=30,
        )
        assert login.status_code == 302, login.text

        # the Video Chat room list: the user's group room and the open room, for the login cookie only
        rooms = browser.get(f"{p.url}/hub/atrium/videochat", timeout=30)
        assert rooms.status_code == 200, rooms.text
        assert rooms.json() == {
            "domain": "jitsi.example.org",
            "displayName": name,
            "rooms": [
                {"name": p.group, "kind": "group", "roomName": f"athubit-{p.group}"},
                {"name": "all-hands", "kind": "room", "roomName": "athubit-all-hands"},
            ],
        }
        anonymous = requests.get(f"{p.url}/hub/atrium/videochat", allow_redirects=False, timeout=30)
        assert anonymous.status_code == 302 and "/hub/login" in anonymous.headers["Location"]

        made = browser.post(
            f"{p.url}/hub/api/users/{name}/tokens",
            json={"note": "integration", "expires_in": 3600},
            headers={"X-XSRFToken": browser.cookies["_xsrf"]},
            timeout=30,
        )
        assert made.status_code == 201, made.text
        token = made.json()["token"]

        # the form shows exactly the profiles this user may use
        form = browser.get(f"{p.url}/hub/spawn", timeout=30)
        assert form.status_code == 200
        assert 'value="small"' in form.text and 'value="big"' in form.text
        assert 'value="secret"' not in form.text

        # REST spawns with a forbidden or unknown profile are refused
        for profile in ("secret", "nothing-like-it"):
            refused = p.api("POST", f"/users/{name}/server", token, json={"profile": profile})
            assert refused.status_code == 403, refused.text
        assert (
            "may not use the profile 'secret'"
            in p.api("POST", f"/users/{name}/server", token, json={"profile": "secret"}).json()["message"]
        )

        spawned = p.api("POST", f"/users/{name}/server", token, json={"profile": "big"})
        assert spawned.status_code in (201, 202), spawned.text
        wait_for(
            "the server to be ready",
            lambda: p.api("GET", f"/users/{name}", token).json()["servers"].get("", {}).get("ready"),
        )
        answer = requests.get(f"{p.url}/user/{name}/api", headers={"Authorization": f"token {token}"}, timeout=30)
        assert answer.status_code == 200
        assert "version" in answer.json()

        # it runs as the user, inside its cgroups, with the profile's limits
        pid = wait_for("the server process", lambda: server_pid(uid), timeout=10)
        status = Path(f"/proc/{pid}/status").read_text()
        assert f"Uid:\t{uid}\t{uid}\t{uid}\t{uid}" in status
        leaf = f"/{p.cgroup_top}/users/{name}"
        groups = proc_cgroups(pid)
        assert (groups["memory"], groups["cpu"]) == (leaf, leaf)
        memory_dir = CGROUP_ROOT / "memory" / p.cgroup_top / "users" / name
        assert (memory_dir / "memory.limit_in_bytes").read_text().strip() == str(768 * MiB)
        assert (
            CGROUP_ROOT / "cpu" / p.cgroup_top / "users" / name / "cpu.cfs_quota_us"
        ).read_text().strip() == "200000"

        # the password page changes the hub password, and only with the current one
        page = browser.get(f"{p.url}/hub/atrium/password", timeout=30)
        assert page.status_code == 200 and 'name="confirm_password"' in page.text
        form_data = {"_xsrf": browser.cookies["_xsrf"], "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
        bad = browser.post(f"{p.url}/hub/atrium/password", data={**form_data, "old_password": "nope"}, timeout=30)
        assert bad.status_code == 400 and "The current password is not correct." in bad.text
        good = browser.post(f"{p.url}/hub/atrium/password", data={**form_data, "old_password": PASSWORD}, timeout=30)
        assert good.status_code == 200 and "Your password has been changed." in good.text
        assert p.passwords_cli("check", NEW_PASSWORD) == 0
        assert p.passwords_cli("check", PASSWORD) == 1

        services = p.api("GET", "/services", p.service_token)
        assert services.status_code == 200
        assert {"idle-culler", "athub-it"} <= set(services.json())

        # users come from the file: the hub's own add, rename and delete are refused, even for an admin
        newcomer = name + "new"
        for method, path, body in [
            ("POST", f"/users/{newcomer}", None),
            ("POST", "/users", {"usernames": [newcomer]}),
            ("PATCH", f"/users/{name}", {"name": newcomer}),
            ("DELETE", f"/users/{p.other}", None),
        ]:
            r = p.api(method, path, p.service_token, json=body)
            assert r.status_code == 403, f"{method} {path}: {r.status_code} {r.text}"
            assert "users come from atrium.yaml. Edit its `users` list and run `atrium deploy`." in r.json()["message"]
        assert p.api("GET", f"/users/{newcomer}", p.service_token).status_code == 404
        assert {u["name"] for u in p.api("GET", "/users", p.service_token).json()} == {name, p.other}
        with pytest.raises(KeyError):
            pwd.getpwnam(newcomer)
        # what the admin page sends when it changes only the admin flag: the name unchanged
        same = p.api("PATCH", f"/users/{name}", p.service_token, json={"name": name, "admin": False})
        assert same.status_code == 200, same.text
        assert same.json()["name"] == name
        assert p.api("GET", f"/users/{name}", p.service_token).json()["name"] == name
        # without the scope, JupyterHub's own refusal comes first
        own = p.api("POST", f"/users/{newcomer}", token)
        assert own.status_code == 403 and "atrium.yaml" not in own.json()["message"]

        # take the user out of the group and restart the hub, as a deploy would
        p.stop_hub()
        assert server_pid(uid) == pid  # user servers outlive the hub
        p.write_config(user_groups=[])
        p.start_hub()
        group = p.api("GET", f"/groups/{p.group}", p.service_token)
        assert group.status_code == 200
        assert group.json()["users"] == []
        rooms = browser.get(f"{p.url}/hub/atrium/videochat", timeout=30)
        assert [r["name"] for r in rooms.json()["rooms"]] == ["all-hands"]
        assert requests.get(f"{p.url}/user/{name}/api", headers={"Authorization": f"token {token}"}, timeout=30).ok

        stopped = p.api("DELETE", f"/users/{name}/server", token)
        assert stopped.status_code in (202, 204)
        wait_for("the server to stop", lambda: server_pid(uid) is None)
        wait_for("its cgroup to be removed", lambda: not memory_dir.exists(), timeout=20)
        refused = p.api("POST", f"/users/{name}/server", token, json={"profile": "big"})
        assert refused.status_code == 403, refused.text
    except BaseException:
        if p.hub_log.exists():
            print(p.hub_log.read_text())
        raise
    finally:
        p.close()
