from __future__ import annotations

from typing import Any

import pytest
from conftest import contract
from traitlets.config import Config

from atrium_hub.auth import AtriumPasswordAuthenticator
from atrium_hub.hubconfig import apply
from atrium_hub.settings import GroupRoom, Room, SettingsError, VideoChat, parse_settings
from atrium_hub.videochat import SETTINGS_KEY, VideoChatHandler, rooms_for


def problems(data: Any) -> list[str]:
    with pytest.raises(SettingsError) as info:
        parse_settings(data, "hub.json")
    return [f"{p.key}  {p.message}" for p in info.value.problems]


def videochat() -> VideoChat:
    return parse_settings(contract()).videochat


def test_the_section_loads_typed(data: dict[str, Any]) -> None:
    assert parse_settings(data).videochat == VideoChat(
        enabled=True,
        jitsi_domain="meet.jit.si",
        project="team",
        group_rooms=(GroupRoom("data", "team-data"), GroupRoom("gpu", "team-gpu")),
        rooms=(Room("standup", "team-standup"),),
    )


def test_the_section_is_checked(data: dict[str, Any]) -> None:
    data["videochat"]["jitsi_domain"] = "https://meet.jit.si/"
    data["videochat"]["group_rooms"][1]["group"] = "gpus"
    data["videochat"]["rooms"][0]["room_name"] = ""
    data["videochat"]["colour"] = "blue"
    assert problems(data) == [
        "videochat.colour  unknown key",
        'videochat.jitsi_domain  expected a host name with an optional port, like meet.jit.si, got "https://meet.jit.si/"',
        'videochat.rooms[0].room_name  expected a non-empty string, got ""',
        'videochat.group_rooms[1].group  unknown group "gpus"; groups are: data, gpu',
    ]
    data["videochat"] = contract()["videochat"]
    data["videochat"]["group_rooms"][1]["group"] = "gpus"
    assert problems(data) == ['videochat.group_rooms[1].group  unknown group "gpus"; groups are: data, gpu']


def test_the_section_is_required(data: dict[str, Any]) -> None:
    del data["videochat"]
    assert problems(data) == ["videochat  missing"]


def test_a_domain_with_a_port_is_accepted(data: dict[str, Any]) -> None:
    data["videochat"]["jitsi_domain"] = "127.0.0.1:8443"
    assert parse_settings(data).videochat.jitsi_domain == "127.0.0.1:8443"


@pytest.mark.parametrize(
    ("user", "groups", "rooms"),
    [
        ("alice", ["data"], [("data", "group", "team-data"), ("standup", "room", "team-standup")]),
        ("bob", [], [("standup", "room", "team-standup")]),
        (
            "carol",
            ["gpu", "data"],
            [("data", "group", "team-data"), ("gpu", "group", "team-gpu"), ("standup", "room", "team-standup")],
        ),
        # a hub group outside the Atrium config gets no room
        ("dave", ["made-in-the-admin-page"], [("standup", "room", "team-standup")]),
    ],
)
def test_each_user_gets_the_rooms_of_their_own_groups(
    user: str, groups: list[str], rooms: list[tuple[str, ...]]
) -> None:
    answer = rooms_for(videochat(), user, groups)
    assert answer["domain"] == "meet.jit.si"
    assert answer["displayName"] == user
    assert [(r["name"], r["kind"], r["roomName"]) for r in answer["rooms"]] == rooms


def test_a_group_and_an_open_room_with_one_jitsi_room_are_listed_once() -> None:
    vc = VideoChat(
        enabled=True,
        jitsi_domain="meet.jit.si",
        project="team",
        group_rooms=(GroupRoom("standup", "team-standup"),),
        rooms=(Room("standup", "team-standup"), Room("retro", "team-retro")),
    )
    assert [r["kind"] for r in rooms_for(vc, "alice", ["standup"])["rooms"]] == ["group", "room"]
    assert [r["name"] for r in rooms_for(vc, "alice", ["standup"])["rooms"]] == ["standup", "retro"]
    assert [r["name"] for r in rooms_for(vc, "bob", [])["rooms"]] == ["standup", "retro"]


def test_the_room_list_page_is_registered() -> None:
    handlers = dict(AtriumPasswordAuthenticator().get_handlers(app=None))
    assert handlers["/atrium/videochat"] is VideoChatHandler


@pytest.mark.parametrize("enabled", [True, False])
def test_the_hub_config_hands_the_rooms_to_the_page(secret_data: dict[str, Any], enabled: bool) -> None:
    secret_data["videochat"]["enabled"] = enabled
    c = Config()
    s = parse_settings(secret_data)
    apply(c, s)
    assert c.JupyterHub.tornado_settings == {SETTINGS_KEY: s.videochat}
    assert c.JupyterHub.tornado_settings[SETTINGS_KEY].enabled is enabled
