from __future__ import annotations

import os
import shutil
import socket
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest
import yarl

from atrium_hub import server_socket
from atrium_hub.server_socket import SocketRefused

is_root = os.geteuid() == 0
needs_root = pytest.mark.skipif(not is_root, reason="makes folders owned by another uid; needs root")
NOBODY = 65534


def test_socket_url_survives_the_hub_clients_lower_casing() -> None:
    url = server_socket.socket_url("/Run/Atrium/pinned/AB.sock")
    host = yarl.URL(url + "/user/x/api").host
    assert host is not None and host != host.upper()
    assert unquote(host) == "/Run/Atrium/pinned/AB.sock"


def test_socket_file_names() -> None:
    assert server_socket.socket_file_name("") == "server.sock"
    assert server_socket.socket_file_name("gpu box/../x") == "server-gpu_box_.._x.sock"


@pytest.fixture
def tmp_path() -> Iterator[Path]:
    """A short folder: socket paths must fit in 107 bytes (pytest's own tmp_path is long)."""
    d = Path(tempfile.mkdtemp(prefix="atss-", dir="/tmp"))
    d.chmod(0o711)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def listening() -> Iterator[list[socket.socket]]:
    socks: list[socket.socket] = []
    yield socks
    for s in socks:
        s.close()


def listen_at(path: Path, socks: list[socket.socket]) -> None:
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.listen()
    socks.append(s)


@needs_root
def test_prepare_makes_the_users_folder_and_pin_checks_the_owner(
    tmp_path: Path, listening: list[socket.socket]
) -> None:
    base = tmp_path / "servers"
    path = server_socket.prepare(str(base), "nobody", NOBODY, NOBODY)
    mine = os.lstat(path.parent)
    assert (mine.st_uid, stat.S_IMODE(mine.st_mode)) == (NOBODY, 0o700)
    assert stat.S_IMODE(os.lstat(base).st_mode) == 0o711
    assert stat.S_IMODE(os.lstat(base / "pinned").st_mode) == 0o700
    assert server_socket.pin(path, str(base), NOBODY) is None  # nothing there yet

    listen_at(path, listening)  # root's socket, not nobody's
    with pytest.raises(SocketRefused, match="not a socket of uid 65534"):
        server_socket.pin(path, str(base), NOBODY)
    assert os.listdir(base / "pinned") == []

    os.chown(path, NOBODY, NOBODY)  # stands in for a socket the user made
    pinned = server_socket.pin(path, str(base), NOBODY)
    assert pinned is not None and pinned.parent == base / "pinned"
    os.unlink(path)  # the user removing her socket does not unbind the pinned one
    client = socket.socket(socket.AF_UNIX)
    client.connect(str(pinned))
    client.close()
    server_socket.release(pinned, path)
    assert not pinned.exists()


@needs_root
def test_pin_never_follows_a_symlink(tmp_path: Path, listening: list[socket.socket]) -> None:
    base = tmp_path / "servers"
    path = server_socket.prepare(str(base), "nobody", NOBODY, NOBODY)
    root_only = tmp_path / "root-only.sock"
    listen_at(root_only, listening)
    path.symlink_to(root_only)
    with pytest.raises(SocketRefused, match="is not a socket"):
        server_socket.pin(path, str(base), NOBODY)
    assert os.listdir(base / "pinned") == []
    # prepare clears what was left at the socket path, without touching its target
    assert server_socket.prepare(str(base), "nobody", NOBODY, NOBODY) == path
    assert not os.path.lexists(path) and root_only.exists()


@needs_root
def test_prepare_refuses_a_folder_that_is_not_roots(tmp_path: Path) -> None:
    base = tmp_path / "servers"
    base.mkdir()
    os.chown(base, NOBODY, NOBODY)
    with pytest.raises(SocketRefused, match="not a folder of root's"):
        server_socket.prepare(str(base), "nobody", NOBODY, NOBODY)


@needs_root
def test_prepare_refuses_a_path_too_long_for_a_socket(tmp_path: Path) -> None:
    base = tmp_path / ("x" * 100)
    with pytest.raises(SocketRefused, match="longer than a Unix socket path"):
        server_socket.prepare(str(base), "nobody", NOBODY, NOBODY)


@needs_root
def test_prepare_refuses_a_folder_users_cannot_reach(tmp_path: Path) -> None:
    closed = tmp_path / "state"
    closed.mkdir(mode=0o700)
    with pytest.raises(SocketRefused, match="not searchable by other users"):
        server_socket.prepare(str(closed / "run" / "servers"), "nobody", NOBODY, NOBODY)
