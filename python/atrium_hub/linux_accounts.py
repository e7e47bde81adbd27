"""Linux accounts and ~/shared links: the one owner of making them and keeping them in line.

Two callers use it, both as root: the hub, at single sign-on first login and before
a server starts (oidc_auth.py), and deploy, for the users and groups of the file
(accounts_cli.py, which the local target runs with the rendered accounts.json).
What must stay true:

- an account is made only under a name no user has yet; its home is 0700 (the
  file's homeMode) and its Linux password locked (logins go through the hub);
  a group of the user's own name that exists already becomes its primary group;
- uids and gids the file gives are kept; an existing account with another id is
  refused, naming the fix, never changed;
- the caller hears of each account before it is made (`before_create`), so it can
  record the account as its own first, and a run killed right after still knows;
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
import stat
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

SHARED_LINKS_DIR = "shared"


HOME_MODE = 0o700


class AccountError(Exception):
    """A system command failed or an account is not as asked; the message says which, `fix` what to do."""

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.fix = fix


Runner = Callable[[Sequence[str]], Awaitable[None]]
BeforeCreate = Callable[[str, str], Awaitable[None]]
"""Told ("user" | "group", name) before that account is made."""


async def _nothing_before(kind: str, name: str) -> None:
    return None


@dataclass(frozen=True)
class Account:
    """A user as the file (or the login) says it should be."""

    name: str
    home: str
    shell: str
    uid: int | None = None


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
        return self.gid_of(name) is not None

    def member_of(self, name: str) -> set[str]:
        """Supplementary groups of `name`."""
        return {g.gr_name for g in grp.getgrall() if name in g.gr_mem}

    def gid_of(self, name: str) -> int | None:
        try:
            return grp.getgrnam(name).gr_gid
        except KeyError:
            return None

    async def ensure_group(self, name: str, gid: int | None, before_create: BeforeCreate = _nothing_before) -> bool:
        """The group exists (with `gid` when given); True when it was made now."""
        existing = self.gid_of(name)
        if existing is not None:
            if gid is not None and existing != gid:
                raise AccountError(
                    f"group {name} exists with gid {existing}, but the file asks for {gid}",
                    f"remove gid from the file, or change the group's gid by hand (groupmod -g {gid} {name})",
                )
            return False
        await before_create("group", name)
        await self.run(["groupadd", *(["-g", str(gid)] if gid is not None else []), name])
        return True

    async def ensure_user(
        self, account: Account, home_mode: int = HOME_MODE, before_create: BeforeCreate = _nothing_before
    ) -> bool:
        """The account exists as asked, password locked, home in `home_mode`; True when it was made now."""
        name = account.name
        existing = self.lookup(name)
        if existing is not None:
            if account.uid is not None and existing.pw_uid != account.uid:
                raise AccountError(
                    f"user {name} exists with uid {existing.pw_uid}, but the file asks for {account.uid}",
                    "remove uid from the file, or change the account's uid by hand",
                )
            if existing.pw_shell != account.shell:
                await self.run(["usermod", "-s", account.shell, name])
        else:
            os.makedirs(os.path.dirname(account.home.rstrip("/")) or "/", mode=0o755, exist_ok=True)
            own_group = ["-g", name] if self.group_exists(name) else ["-U"]
            uid = ["-u", str(account.uid)] if account.uid is not None else []
            await before_create("user", name)
            await self.run(["useradd", "-m", "-d", account.home, "-s", account.shell, *own_group, *uid, name])
        await self.run(["usermod", "-L", name])
        if os.path.isdir(account.home) and (os.stat(account.home).st_mode & 0o777) != home_mode:
            os.chmod(account.home, home_mode)
        return existing is None

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
                    changes.append(f"kept {path}/{group}: not a link made by Atrium")
                    continue
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


def shared_dir_problem(home: str) -> str | None:
    """Why the links in `home`/shared are left alone, or None when it is a folder or not there yet."""
    path = os.path.join(home, SHARED_LINKS_DIR)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(st.st_mode):
        return f"{path} is a link, not a folder"
    if not stat.S_ISDIR(st.st_mode):
        return f"{path} is not a folder"
    return None


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
