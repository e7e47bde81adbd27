"""The account tool deploy runs: `python -m atrium_hub.accounts_cli`, as root.

Deploy (the local target's accounts and shared-folders components) hands it one
request as the first line on stdin, checked against the `accounts-request`
contract, and reads its answers on stdout, one `accounts-event` JSON object a line.
Before an account is made it says so (`intent`) and waits for a line `go`, so
deploy records the account as its own first: a deploy killed right after still
knows which accounts are Atrium's. All the work is linux_accounts.py's, the same
code the hub runs at single sign-on first login.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Mapping
from typing import Any, TextIO

from .contract import ContractError, check
from .linux_accounts import Account, AccountError, LinuxAccounts, shared_dir_problem


class Channel:
    """Events out on stdout, `go` lines in on stdin."""

    def __init__(self, stdin: TextIO, stdout: TextIO) -> None:
        self.stdin = stdin
        self.stdout = stdout

    def send(self, event: str, **fields: Any) -> None:
        self.stdout.write(json.dumps({"event": event, **fields}) + "\n")
        self.stdout.flush()

    async def before_create(self, kind: str, name: str) -> None:
        self.send("intent", kind=kind, name=name)
        answer = self.stdin.readline().strip()
        if answer != "go":
            raise AccountError(f"deploy did not confirm making {kind} {name} (got {answer!r})")


async def apply_accounts(request: Mapping[str, Any], linux: LinuxAccounts, out: Channel) -> str:
    spec = request["accounts"]
    home_mode = int(spec["homeMode"], 8)
    for g in spec["groups"]:
        if await linux.ensure_group(g["name"], g["gid"], out.before_create):
            out.send("detail", text=f"group {g['name']} created")
    for u in spec["users"]:
        account = Account(u["name"], u["home"], u["shell"], u["uid"])
        if await linux.ensure_user(account, home_mode, out.before_create):
            out.send("detail", text=f"user {u['name']} created")
    managed = set(request["managed_groups"]) | {g["name"] for g in spec["groups"]}
    for u in spec["users"]:
        await sync_memberships(linux, u["name"], u["groups"], managed, out)
    # users gone from the file keep their account and files, and leave the platform's groups
    removed = [name for name in request["former_users"] if linux.lookup(name) is not None]
    for name in removed:
        await sync_memberships(linux, name, [], managed, out)
    note = f"{len(spec['users'])} users, {len(spec['groups'])} groups"
    return note + (f", {len(removed)} removed from groups" if removed else "")


async def sync_memberships(linux: LinuxAccounts, name: str, wanted: list[str], managed: set[str], out: Channel) -> None:
    added, removed = await linux.sync_groups(name, wanted, managed)
    for g in added:
        out.send("detail", text=f"{name} added to {g}")
    for g in removed:
        out.send("detail", text=f"{name} removed from {g}")


def apply_links(request: Mapping[str, Any], linux: LinuxAccounts, out: Channel) -> str:
    made = 0
    for u in request["users"]:
        entry = linux.lookup(u["name"])
        if entry is None:
            continue
        problem = shared_dir_problem(u["home"])
        if problem:
            out.send(
                "important", text=f"skipped {u['name']}'s group links: {problem} (make it a folder and deploy again)"
            )
            continue
        for change in linux.sync_links(entry, u["home"], u["folders"], request["shared_dir"]):
            out.send("detail", text=change)
        made += 1
    return f"links of {made} users"


async def serve(stdin: TextIO, stdout: TextIO, linux: LinuxAccounts) -> int:
    out = Channel(stdin, stdout)
    try:
        try:
            request = check("accounts-request", json.loads(stdin.readline()), "<stdin>", "invalid account request")
        except json.JSONDecodeError as e:
            raise AccountError(f"the account request is not JSON: {e}") from None
        if request["op"] == "accounts":
            note = await apply_accounts(request, linux, out)
        else:
            note = apply_links(request, linux, out)
    except (AccountError, ContractError) as e:
        out.send("error", message=str(e), fix=getattr(e, "fix", ""))
        return 1
    out.send("done", note=note)
    return 0


def main() -> int:
    return asyncio.run(serve(sys.stdin, sys.stdout, LinuxAccounts()))


if __name__ == "__main__":
    sys.exit(main())
