"""File steps that root takes inside folders a user can change, without following her links.

Every step is relative to an open folder (a directory file descriptor) and opens
the next name with O_NOFOLLOW, so a user who swaps a folder for a symlink (or
renames one away and puts a link in its place) makes the step fail instead of
steering it somewhere else. Ownership is handed over with fchown on what was
opened, never by path. What must stay true:

- the first folder (the trusted root) is owned by root and writable by no one
  else; everything below it is reached only through file descriptors;
- a file is only ever created new (O_EXCL), so a planted hard link or file is
  never opened or overwritten.
"""

from __future__ import annotations

import contextlib
import os
import stat

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class UnsafePath(OSError):
    """A folder on the way is not what root made (a link, another owner, writable by others)."""


def open_trusted_dir(path: str) -> int:
    """Open a folder root owns and no one else can write (the start of every walk)."""
    fd = os.open(path, DIR_FLAGS)
    st = os.fstat(fd)
    if st.st_uid != 0 or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        os.close(fd)
        raise UnsafePath(f"{path} must be owned by root and writable by root only")
    return fd


def open_dir_at(parent: int, name: str, owners: tuple[int, ...]) -> int:
    """Open `name` in the open folder `parent`: a real folder (no link) owned by one of `owners`."""
    if "/" in name or name in ("", ".", ".."):
        raise UnsafePath(f"{name!r} is not a single folder name")
    try:
        fd = os.open(name, DIR_FLAGS, dir_fd=parent)
    except OSError as e:
        raise UnsafePath(f"{name} is not a plain folder ({e.strerror})") from None
    if os.fstat(fd).st_uid not in owners:
        os.close(fd)
        raise UnsafePath(f"{name} has an unexpected owner")
    return fd


def make_dir_at(parent: int, name: str, mode: int, owners: tuple[int, ...] = (0,)) -> int:
    """Make (or reuse) the folder `name` in `parent` and open it; see open_dir_at."""
    with contextlib.suppress(FileExistsError):
        os.mkdir(name, mode, dir_fd=parent)
    return open_dir_at(parent, name, owners)


def create_file_at(parent: int, name: str, mode: int, uid: int, gid: int) -> int:
    """A new file `name` in `parent`, opened for writing and owned by uid:gid."""
    fd = os.open(name, NEW_FILE_FLAGS, mode, dir_fd=parent)
    try:
        os.fchown(fd, uid, gid)
    except OSError:
        os.close(fd)
        raise
    return fd
