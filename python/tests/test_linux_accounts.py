"""The Linux side of accounts made at login: group membership and ~/shared links."""

from __future__ import annotations

import os
import pwd
from collections.abc import Sequence
from pathlib import Path

import pytest
from linux_machine import Machine

from atrium_hub.linux_accounts import Account, AccountError, LinuxAccounts, run_command, shared_dir_problem

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
    changes = LinuxAccounts().sync_links(me(home), str(home), {"data": f"{SHARED}/data"}, SHARED)
    assert changes == [f"kept {home}/shared/data: not a link made by Atrium"]
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


# --- making accounts: the one way both deploy and single sign-on use ---------------------


async def test_ensure_user_says_before_it_makes_and_keeps_the_file_ids(tmp_path: Path) -> None:
    linux = Machine(groups={"dave": 4000})
    told: list[tuple[str, str, list[str]]] = []

    async def before(kind: str, name: str) -> None:
        told.append((kind, name, list(linux.calls)))

    home = str(tmp_path / "home" / "dave")
    assert await linux.ensure_user(Account("dave", home, "/bin/bash", 5001), 0o700, before) is True
    # told before useradd ran; the group of the user's name becomes the primary group
    assert told == [("user", "dave", [])]
    assert linux.calls == [f"useradd -m -d {home} -s /bin/bash -g dave -u 5001 dave", "usermod -L dave"]
    assert await linux.ensure_user(Account("dave", home, "/bin/bash", 5001), 0o700, before) is False
    assert told == [("user", "dave", [])]


async def test_an_account_with_another_id_is_refused_with_the_fix() -> None:
    linux = Machine(users={"dave": 2001}, groups={"data": 3001})
    with pytest.raises(AccountError, match="user dave exists with uid 2001, but the file asks for 5001") as e:
        await linux.ensure_user(Account("dave", "/home/dave", "/bin/bash", 5001))
    assert "remove uid from the file" in e.value.fix
    with pytest.raises(AccountError, match="group data exists with gid 3001") as e:
        await linux.ensure_group("data", 4001)
    assert "groupmod -g 4001 data" in e.value.fix
    assert linux.calls == []


async def test_ensure_group_makes_only_missing_groups() -> None:
    linux = Machine(groups={"data": 3001})
    assert await linux.ensure_group("data", None) is False
    assert await linux.ensure_group("gpu", 4002) is True
    assert linux.calls == ["groupadd -g 4002 gpu"]


def test_shared_dir_problem_names_what_is_in_the_way(tmp_path: Path) -> None:
    assert shared_dir_problem(str(tmp_path)) is None
    (tmp_path / "shared").symlink_to("/tmp")
    assert shared_dir_problem(str(tmp_path)) == f"{tmp_path}/shared is a link, not a folder"
    (tmp_path / "shared").unlink()
    (tmp_path / "shared").write_text("x")
    assert shared_dir_problem(str(tmp_path)) == f"{tmp_path}/shared is not a folder"
