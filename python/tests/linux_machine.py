"""A machine's accounts in memory, changed only by the commands the code under test runs."""

from __future__ import annotations

import pwd
from collections.abc import Sequence

from atrium_hub.linux_accounts import LinuxAccounts


class Machine(LinuxAccounts):
    """Accounts in memory, changed only by the commands the code runs."""

    def __init__(self, users: dict[str, int] | None = None, groups: dict[str, int] | None = None) -> None:
        self.calls: list[str] = []
        self.users = dict(users or {})
        self.groups = dict(groups or {})
        self.members: dict[str, set[str]] = {}

        async def run(argv: Sequence[str]) -> None:
            self.calls.append(" ".join(argv))
            if argv[0] == "groupadd":
                self.groups[argv[-1]] = int(argv[2]) if argv[1] == "-g" else 3000 + len(self.groups)
            elif argv[0] == "useradd":
                self.users[argv[-1]] = int(argv[argv.index("-u") + 1]) if "-u" in argv else 2000 + len(self.users)
            elif argv[:2] == ["gpasswd", "-a"]:
                self.members.setdefault(argv[2], set()).add(argv[3])

        super().__init__(run=run)

    def lookup(self, name: str) -> pwd.struct_passwd | None:
        uid = self.users.get(name)
        return None if uid is None else pwd.struct_passwd((name, "x", uid, uid, "", f"/home/{name}", "/bin/bash"))

    def gid_of(self, name: str) -> int | None:
        return self.groups.get(name)

    def member_of(self, name: str) -> set[str]:
        return set(self.members.get(name, set()))
