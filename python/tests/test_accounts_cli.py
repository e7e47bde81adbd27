"""The account tool deploy runs: one request in, events out, a `go` before each account."""

from __future__ import annotations

import io
import json
import os
import pwd
from pathlib import Path
from typing import Any

from linux_machine import Machine

from atrium_hub.accounts_cli import serve


def request(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "op": "accounts",
        "accounts": {
            "homeMode": "0700",
            "sharedMode": "2770",
            "users": [{"name": "dave", "uid": None, "shell": "/bin/bash", "home": "/home/dave", "groups": ["data"]}],
            "groups": [{"name": "data", "gid": None, "sharedFolder": "/srv/shared/data"}],
        },
        "managed_groups": ["old"],
        "former_users": ["erin"],
    }
    return {**base, **over}


async def talk(linux: Machine, req: Any, answers: str = "go\ngo\ngo\n") -> tuple[int, list[dict[str, Any]]]:
    line = req if isinstance(req, str) else json.dumps(req)
    out = io.StringIO()
    code = await serve(io.StringIO(line + "\n" + answers), out, linux)
    return code, [json.loads(x) for x in out.getvalue().splitlines()]


async def test_accounts_are_named_before_they_are_made() -> None:
    linux = Machine(users={"erin": 2005}, groups={"old": 3005})
    linux.members["erin"] = {"old"}
    code, events = await talk(linux, request())
    assert code == 0
    assert events == [
        {"event": "intent", "kind": "group", "name": "data"},
        {"event": "detail", "text": "group data created"},
        {"event": "intent", "kind": "user", "name": "dave"},
        {"event": "detail", "text": "user dave created"},
        {"event": "detail", "text": "dave added to data"},
        {"event": "detail", "text": "erin removed from old"},
        {"event": "done", "note": "1 users, 1 groups, 1 removed from groups"},
    ]


async def test_no_go_no_account() -> None:
    linux = Machine()
    code, events = await talk(linux, request(), answers="")
    assert code == 1
    assert events[-1]["event"] == "error" and "did not confirm making group data" in events[-1]["message"]
    assert linux.calls == []


async def test_a_bad_request_is_refused_naming_every_problem() -> None:
    code, events = await talk(Machine(), {"op": "accounts", "accounts": {}, "managed_groups": [1]})
    assert code == 1
    message = events[-1]["message"]
    for key in ("accounts.homeMode", "managed_groups[0]", "former_users"):
        assert key in message
    code, events = await talk(Machine(), "{not json")
    assert (code, events[-1]["event"]) == (1, "error")


async def test_an_existing_account_with_another_uid_stops_with_the_fix() -> None:
    req = request()
    req["accounts"]["users"][0]["uid"] = 5001
    code, events = await talk(Machine(users={"dave": 2001}, groups={"data": 3001}), req)
    assert code == 1
    assert events[-1] == {
        "event": "error",
        "message": "user dave exists with uid 2001, but the file asks for 5001",
        "fix": "remove uid from the file, or change the account's uid by hand",
    }


class HomeMachine(Machine):
    def __init__(self, home: Path) -> None:
        super().__init__(users={"me": os.getuid()})
        self.home = home

    def lookup(self, name: str) -> pwd.struct_passwd | None:
        return pwd.struct_passwd((name, "x", os.getuid(), os.getgid(), "", str(self.home), "/bin/sh"))


async def test_links_and_a_shared_folder_in_the_way(tmp_path: Path) -> None:
    home = tmp_path / "me"
    home.mkdir()
    links = {
        "op": "links",
        "shared_dir": "/srv/shared",
        "users": [{"name": "me", "home": str(home), "folders": {"data": "/srv/shared/data"}}],
    }
    code, events = await talk(HomeMachine(home), links)
    assert code == 0
    assert events == [
        {"event": "detail", "text": f"{home}/shared/data -> /srv/shared/data"},
        {"event": "done", "note": "links of 1 users"},
    ]
    (home / "shared" / "data").unlink()
    (home / "shared").rmdir()
    (home / "shared").symlink_to(tmp_path)
    code, events = await talk(HomeMachine(home), links)
    assert events[0] == {
        "event": "important",
        "text": f"skipped me's group links: {home}/shared is a link, not a folder (make it a folder and deploy again)",
    }
    assert not (tmp_path / "data").exists()
