"""Linux accounts of people who log in through the provider, made and kept in line by the hub.

The hub runs as root; these steps run at login and before a server starts. What
must stay true:

- an account is made only under a name no user and no group has yet; its home is
  0700 and its Linux password locked (logins go through the hub);
- only memberships of the file's groups are added or removed, never others;
- ~/shared is changed without following anything the user controls: the folder
  is opened with O_NOFOLLOW and every link is read, made and removed relative to
  that open folder, so a user who swaps it for a symlink only gets no links.
"""

from __future__ import annotations

import asyncio
import grp
import os
import pwd
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence

SHARED_LINKS_DIR = "shared"


class AccountError(Exception):
    """A system command failed; the message names it and quotes its error."""


Runner = Callable[[Sequence[str]], Awaitable[None]]


async def run_command(argv: Sequence[str], attempts: int = 3) -> None:
    """Run a command with no shell; retry briefly, since useradd and gpasswd fail while another holds the lock."""
    last = ""
    for attempt in range(attempts):
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await proc.communicate()
        if proc.returncode == 0:
            return
        last = (err or out).decode("utf-8", "replace").strip() or f"exit status {proc.returncode}"
        if attempt + 1 < attempts:
            await asyncio.sleep(0.5)
    raise AccountError(f"{' '.join(argv)} failed: {last}")


class LinuxAccounts:
    """The system side: lookups through NSS, changes through the shadow tools."""

    def __init__(self, run: Runner = run_command) -> None:
        self.run = run

    def lookup(self, name: str) -> pwd.struct_passwd | None:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            return None

    def group_exists(self, name: str) -> bool:
        try:
            grp.getgrnam(name)
        except KeyError:
            return False
        return True

    def member_of(self, name: str) -> set[str]:
        """Supplementary groups of `name`."""
        return {g.gr_name for g in grp.getgrall() if name in g.gr_mem}

    async def create(self, name: str, home: str, shell: str) -> None:
        """A new user with a group of its own name, home 0700, password locked."""
        os.makedirs(os.path.dirname(home.rstrip("/")) or "/", mode=0o755, exist_ok=True)
        await self.run(["useradd", "-m", "-d", home, "-s", shell, "-U", name])
        await self.run(["usermod", "-L", name])
        os.chmod(home, 0o700)

    async def sync_groups(
        self, name: str, wanted: Iterable[str], managed: Iterable[str]
    ) -> tuple[list[str], list[str]]:
        """Membership of the managed groups becomes exactly `wanted`; returns (added, removed)."""
        want = set(wanted)
        current = self.member_of(name)
        added = sorted(want - current)
        removed = sorted((current & set(managed)) - want - {name})
        for g in added:
            await self.run(["gpasswd", "-a", name, g])
        for g in removed:
            await self.run(["gpasswd", "-d", name, g])
        return added, removed

    def sync_links(self, entry: pwd.struct_passwd, home: str, folders: Mapping[str, str], shared_dir: str) -> list[str]:
        """~/shared/<group> for exactly the groups in `folders`; returns what changed.

        Links pointing below `shared_dir` that are no longer wanted are removed;
        anything else in ~/shared is the user's and stays.
        """
        if not os.path.isdir(home):
            return []
        path = os.path.join(home, SHARED_LINKS_DIR)
        changes: list[str] = []
        try:
            os.mkdir(path, 0o755)
        except FileExistsError:
            pass
        else:
            os.chown(path, entry.pw_uid, entry.pw_gid, follow_symlinks=False)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:
            return [f"{path} is not a folder; its links were left alone"]
        try:
            for group, target in sorted(folders.items()):
                current = _readlink(group, fd)
                if current == target:
                    continue
                if current is None and _exists(group, fd):
                    continue  # something the user made; not ours to replace
                if current is not None:
                    os.unlink(group, dir_fd=fd)
                os.symlink(target, group, dir_fd=fd)
                os.chown(group, entry.pw_uid, entry.pw_gid, dir_fd=fd, follow_symlinks=False)
                changes.append(f"{path}/{group} -> {target}")
            below = shared_dir.rstrip("/") + "/"
            for name in sorted(os.listdir(fd)):
                if name in folders:
                    continue
                points_to = _readlink(name, fd)
                if points_to is not None and points_to.startswith(below):
                    os.unlink(name, dir_fd=fd)
                    changes.append(f"{path}/{name} removed")
        finally:
            os.close(fd)
        return changes


def _readlink(name: str, fd: int) -> str | None:
    try:
        return os.readlink(name, dir_fd=fd)
    except OSError:
        return None


def _exists(name: str, fd: int) -> bool:
    try:
        os.stat(name, dir_fd=fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True
