"""A private `/dev/shm` for each user server and Dask process.

The machine's `/dev/shm` is one tmpfs every user can list and write: files there
outlive their writer and are not bounded by the writer's limits. Each server and
each Dask scheduler or worker instead gets its own mount namespace (entered in the
forked child, as root, before privileges are dropped) with a fresh tmpfs on
`/dev/shm`, sized at half the memory limit: what the user puts there counts
against that limit, nobody else can see it, and it is gone with the last process
of the server.

What must stay true: mounts made in the namespace never reach the machine (the
namespace's mounts are made slaves first: the machine's later mounts still show
inside, nothing flows back); a failure is reported on stderr (the server's log)
and the process starts with the machine's `/dev/shm`, as before.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from collections.abc import Callable

CLONE_NEWNS = 0x00020000
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_REC = 0x4000
MS_SLAVE = 0x80000
SHM = b"/dev/shm"


def shm_size(mem_limit: int) -> int:
    """Bytes of the private tmpfs: half the memory limit; 0 (the kernel's default) without one."""
    return mem_limit // 2 if mem_limit > 0 else 0


def tmpfs_options(size: int) -> bytes:
    return b"mode=1777" + (f",size={size}".encode() if size else b"")


def private_shm_fn(mem_limit: int) -> Callable[[], None]:
    """A function for the forked child (before exec, still root) that gives it a private /dev/shm."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    unshare, mount = libc.unshare, libc.mount
    options = tmpfs_options(shm_size(mem_limit))

    def warn(step: str) -> None:
        reason = os.strerror(ctypes.get_errno())
        os.write(2, f"atrium: warning: no private /dev/shm ({step}: {reason})\n".encode())

    def enter() -> None:
        if unshare(CLONE_NEWNS) != 0:
            return warn("unshare")
        if mount(None, b"/", None, MS_REC | MS_SLAVE, None) != 0:
            return warn("making mounts slaves")
        if mount(b"atrium-shm", SHM, b"tmpfs", MS_NOSUID | MS_NODEV, options) != 0:
            return warn("mounting the tmpfs")
        return None

    return enter
