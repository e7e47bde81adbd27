from __future__ import annotations

from typing import Any

import pytest

from atrium_hub.profiles import (
    ProfileRefused,
    allowed_profiles,
    choose_profile,
    default_profile,
    requested_profile,
)
from atrium_hub.settings import Profile, parse_settings


@pytest.fixture
def profiles(data: dict[str, Any]) -> tuple[Profile, ...]:
    # small: everyone (default); large: group data; gpu: group gpu or user bob
    return parse_settings(data).profiles


def names(ps: list[Profile]) -> list[str]:
    return [p.name for p in ps]


@pytest.mark.parametrize(
    ("user", "groups", "expected"),
    [
        ("alice", ["data"], ["small", "large"]),
        ("bob", [], ["small", "gpu"]),
        ("carol", ["data", "gpu"], ["small", "large", "gpu"]),
        ("dave", [], ["small"]),
        ("dave", ["gpu"], ["small", "gpu"]),
    ],
)
def test_allowed_profiles_per_user_and_group(
    profiles: tuple[Profile, ...], user: str, groups: list[str], expected: list[str]
) -> None:
    assert names(allowed_profiles(profiles, user, groups)) == expected


def test_default_is_the_marked_one_else_the_first_allowed(profiles: tuple[Profile, ...]) -> None:
    small, large, gpu = profiles
    assert default_profile([small, large]) is small
    assert default_profile([large, gpu]) is large
    assert default_profile([]) is None


def test_choose_profile(profiles: tuple[Profile, ...]) -> None:
    assert choose_profile(profiles, "alice", ["data"], None).name == "small"  # type: ignore[union-attr]
    assert choose_profile(profiles, "alice", ["data"], "").name == "small"  # type: ignore[union-attr]
    assert choose_profile(profiles, "alice", ["data"], "large").name == "large"  # type: ignore[union-attr]
    assert choose_profile(profiles, "bob", [], "gpu").name == "gpu"  # type: ignore[union-attr]
    assert choose_profile((), "alice", [], "anything") is None


@pytest.mark.parametrize(
    ("user", "groups", "requested", "status", "message"),
    [
        ("alice", ["data"], "gpu", 403, "alice may not use the profile 'gpu'."),
        ("bob", [], "large", 403, "bob may not use the profile 'large'."),
        ("alice", ["data"], "huge", 403, "There is no profile 'huge'."),
        ("alice", ["data"], ["small", "large"], 400, "The profile must be given as a name, not list."),
        ("alice", ["data"], 3, 400, "The profile must be given as a name, not int."),
    ],
)
def test_choose_profile_refuses(
    profiles: tuple[Profile, ...], user: str, groups: list[str], requested: object, status: int, message: str
) -> None:
    with pytest.raises(ProfileRefused) as info:
        choose_profile(profiles, user, groups, requested)
    assert info.value.status == status
    assert str(info.value) == message


def test_no_open_profile_is_refused(profiles: tuple[Profile, ...]) -> None:
    restricted = profiles[1:]
    with pytest.raises(ProfileRefused) as info:
        choose_profile(restricted, "dave", [], None)
    assert str(info.value) == "No profile is available to dave; ask an admin to grant one."


def test_requested_profile_reads_form_and_json_shapes() -> None:
    assert requested_profile({"profile": "gpu"}) == "gpu"
    assert requested_profile({"profile": ["gpu"]}) == "gpu"
    assert requested_profile({}) is None
    assert requested_profile({"other": 1}) is None
