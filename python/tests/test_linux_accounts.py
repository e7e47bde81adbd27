"""The Linux side of accounts made at login: group membership and ~/shared links."""

from __future__ import annotations

import os
import pwd
from collections.abc import Sequence
from pathlib import Path

import pytest

from atrium_hub.linux_accounts import AccountError, LinuxAccounts, run_command

SHARED = "/srv/atrium/shared"


def me(home: Path) -> pwd.struct_passwd:
    return pwd.struct_passwd(("me", "x", os.getuid(), os.getgid(), "", str(home), "/bin/sh"))


class Recorder(LinuxAccounts):
    def __init__(self, member_of: set[str]) -> None:
        self.calls: list[list[str]] = []
        self.current = member_of

        async def run(argv: Sequence[str]) -> None:
            self.calls.append(list(argv))

        super().__init__(run=run)

    def member_of(self, name: str) -> set[str]:
        return set(self.current)


async def test_sync_groups_touches_only_managed_groups() -> None:
    linux = Recorder({"data", "old", "docker", "dave"})
    added, removed = await linux.sync_groups("dave", ["data", "gpu"], ["data", "gpu", "old", "dave"])
    assert (added, removed) == (["gpu"], ["old"])
    # docker is not the file's; the user's own group is never removed
    assert linux.calls == [["gpasswd", "-a", "dave", "gpu"], ["gpasswd", "-d", "dave", "old"]]


async def test_sync_groups_with_nothing_to_do() -> None:
    linux = Recorder({"data"})
    assert await linux.sync_groups("dave", ["data"], ["data"]) == ([], [])
    assert linux.calls == []


async def test_run_command_reports_the_error() -> None:
    await run_command(["true"])
    with pytest.raises(AccountError, match=r"^ls /nonexistent-atrium failed: .*No such file"):
        await run_command(["ls", "/nonexistent-atrium"], attempts=1)


def test_links_follow_the_groups(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    linux = LinuxAccounts()
    folders = {"data": f"{SHARED}/data", "gpu": f"{SHARED}/gpu"}
    changes = linux.sync_links(me(home), str(home), folders, SHARED)
    shared = home / "shared"
    assert changes == [f"{shared}/data -> {SHARED}/data", f"{shared}/gpu -> {SHARED}/gpu"]
    assert os.readlink(shared / "gpu") == f"{SHARED}/gpu"
    assert (shared.stat().st_mode & 0o777) == 0o755

    # the user's own files and links elsewhere stay; links into the shared root that
    # are no longer wanted go; a wrong link is replaced
    (shared / "notes.txt").write_text("mine")
    (shared / "elsewhere").symlink_to("/tmp")
    (shared / "data").unlink()
    (shared / "data").symlink_to(f"{SHARED}/other")
    changes = linux.sync_links(me(home), str(home), {"data": f"{SHARED}/data"}, SHARED)
    assert changes == [f"{shared}/data -> {SHARED}/data", f"{shared}/gpu removed"]
    assert sorted(p.name for p in shared.iterdir()) == ["data", "elsewhere", "notes.txt"]
    assert linux.sync_links(me(home), str(home), {"data": f"{SHARED}/data"}, SHARED) == []


def test_a_folder_the_user_put_in_place_of_a_link_stays(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "shared" / "data").mkdir(parents=True)
    assert LinuxAccounts().sync_links(me(home), str(home), {"data": f"{SHARED}/data"}, SHARED) == []
    assert (home / "shared" / "data").is_dir()


def test_a_swapped_shared_folder_is_not_followed(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "gpu").symlink_to(f"{SHARED}/gpu")
    (home / "shared").symlink_to(elsewhere)
    changes = LinuxAccounts().sync_links(me(home), str(home), {"data": f"{SHARED}/data"}, SHARED)
    assert changes == [f"{home}/shared is not a folder; its links were left alone"]
    assert sorted(p.name for p in elsewhere.iterdir()) == ["gpu"]


def test_no_home_no_links(tmp_path: Path) -> None:
    assert LinuxAccounts().sync_links(me(tmp_path / "gone"), str(tmp_path / "gone"), {}, SHARED) == []
