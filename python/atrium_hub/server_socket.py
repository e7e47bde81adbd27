"""Where a user's server listens: a Unix socket that no other local user can claim.

A TCP port on loopback is a name any local user can take: the hub picks a free
port, releases it, and the server binds it seconds later, so another user who
binds it first answers for the server (and after a server dies, its port is free
for anyone while the route still points there). A Unix socket in a folder only its
user can write has no such gap: nobody else can create or replace it.

Layout under `sockets_dir` (root-owned, 0711):
- `users/<name>/` (the user's, 0700): the server creates its socket here;
- `pinned/` (root's, 0700): the hub hard-links that socket here once it exists and
  checks the link: a socket, owned by the user's uid. The hub and the proxy (both
  root) connect only to the pinned link, which the user cannot replace with a
  symlink to some root-only socket or with another user's socket.

What must stay true:
- nothing is followed through a path the user can change: the user's folder is
  created and fixed by root in a root-only parent, the socket is linked without
  following symlinks, and the link is checked where only root can write;
- a socket whose owner is not the user is never used, and the link is removed.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

USERS = "users"
PINNED = "pinned"
#: jupyter-server refuses --sock unless the port is its default one (it never binds it).
JUPYTER_DEFAULT_PORT = 8888
#: sun_path holds 108 bytes with the final NUL.
MAX_SOCKET_PATH = 107


class SocketRefused(Exception):
    """The file at the server's socket path is not a socket of the server's user."""


def socket_url(path: str | Path) -> str:
    """The http+unix URL of `path`, every byte percent-encoded.

    The hub's HTTP client lowercases the host part of a URL; %XX escapes of every
    byte come through that unchanged, so any path (upper case too) survives.
    """
    return "http+unix://" + "".join(f"%{b:02X}" for b in os.fsencode(str(path)))


def socket_file_name(server_name: str) -> str:
    """One socket per server: the default server's, or a named server's."""
    if not server_name:
        return "server.sock"
    return "server-" + "".join(c if c.isalnum() or c in "-_." else "_" for c in server_name) + ".sock"


def _root_dir(path: Path, mode: int) -> None:
    """`path` is a real folder of root's with exactly `mode` (made if missing)."""
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, mode)
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != 0:
        raise SocketRefused(f"{path} is not a folder of root's")
    if stat.S_IMODE(st.st_mode) != mode:
        os.chmod(path, mode)


def _pinned_path(sockets_dir: str) -> Path:
    return Path(sockets_dir) / PINNED / f"{secrets.token_hex(8)}.sock"


def _searchable(folder: Path) -> None:
    """Every folder above the sockets' must let users pass, or no server can bind its socket."""
    for d in [folder, *folder.parents]:
        if not os.stat(d).st_mode & stat.S_IXOTH:
            raise SocketRefused(f"{d} is not searchable by other users, so servers cannot reach {folder}")


def prepare(sockets_dir: str, user: str, uid: int, gid: int, server_name: str = "") -> Path:
    """Make the user's socket folder and clear an old socket; return the path the server binds."""
    base = Path(sockets_dir)
    base.parent.mkdir(parents=True, exist_ok=True)
    _searchable(base.parent)
    _root_dir(base, 0o711)
    _root_dir(base / USERS, 0o711)
    _root_dir(base / PINNED, 0o700)
    mine = base / USERS / user
    with contextlib.suppress(FileExistsError):
        os.mkdir(mine, 0o700)
    # only root writes in users/, so this is the folder root made; fix owner and mode
    st = os.lstat(mine)
    if not stat.S_ISDIR(st.st_mode):
        raise SocketRefused(f"{mine} is not a folder")
    os.chown(mine, uid, gid, follow_symlinks=False)
    os.chmod(mine, 0o700, follow_symlinks=False)
    path = mine / socket_file_name(server_name)
    for p in (path, _pinned_path(sockets_dir)):
        if len(os.fsencode(str(p))) > MAX_SOCKET_PATH:
            raise SocketRefused(f"{p} is longer than a Unix socket path may be ({MAX_SOCKET_PATH} bytes)")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    return path


def pin(path: Path, sockets_dir: str, uid: int) -> Path | None:
    """Hard-link the server's socket into the root-only folder and check the link.

    None while nothing is at `path` yet. Raises SocketRefused when what is there is
    not a socket of `uid` (a symlink, another user's socket, a file).
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    if not stat.S_ISSOCK(st.st_mode):
        raise SocketRefused(f"{path} is not a socket")
    pinned = _pinned_path(sockets_dir)
    try:
        os.link(path, pinned, follow_symlinks=False)
    except FileNotFoundError:
        return None  # replaced meanwhile (e.g. a server restarting its listener)
    st = os.lstat(pinned)
    if not stat.S_ISSOCK(st.st_mode) or st.st_uid != uid:
        os.unlink(pinned)
        raise SocketRefused(f"{path} is not a socket of uid {uid}")
    return pinned


def release(*paths: str | Path) -> None:
    """Remove a pinned link and the user's socket (never following a symlink)."""
    for p in paths:
        if p:
            with contextlib.suppress(FileNotFoundError, IsADirectoryError, NotADirectoryError):
                os.unlink(p)
