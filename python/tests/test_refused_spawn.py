"""A refused spawn leaves nothing behind, driven through JupyterHub's own User.spawn.

JupyterHub stores a request's options as the user's defaults before the spawner
runs, and a request without options reuses them: the refused ones must not stay.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from jupyterhub import orm, roles
from jupyterhub.auth import Authenticator
from jupyterhub.objects import Hub
from jupyterhub.user import User
from tornado import web
from traitlets.config import Config

from atrium_hub.spawner import AtriumSpawner


class Started(Exception):
    """Raised where the spawner would make the server's socket and start it: the check passed."""


@pytest.fixture
def hub_user(data: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[User]:
    """alice in a real hub database (default roles, the hub's OAuth client), spawning AtriumSpawners."""
    db = orm.new_session_factory("sqlite:///:memory:")()
    for role in roles.get_default_roles():
        roles.create_role(db, role)
    db.add(orm.OAuthClient(identifier="jupyterhub"))
    orm_user = orm.User(name="alice", groups=[orm.Group(name="data")])  # may use small and large, not gpu
    db.add(orm_user)
    db.commit()
    roles.assign_default_roles(db, orm_user)
    config = Config()
    config.AtriumSpawner.profiles = data["profiles"]
    config.AtriumSpawner.cgroup_mode = "off"
    settings = {"config": config, "hub": Hub(), "authenticator": Authenticator(config=config)}
    settings["spawner_class"] = AtriumSpawner

    def started(self: AtriumSpawner) -> int:
        raise Started(self.profile_name)

    monkeypatch.setattr(AtriumSpawner, "prepare_socket", started)
    yield User(orm_user, settings=settings)
    db.close()


async def spawn(user: User, options: dict[str, Any] | None = None) -> str:
    """'started <profile>' when the check passed, else 'refused <status>: <message>'."""
    try:
        await user.spawn("", options=options)
    except Started as e:
        return f"started {e}"
    except web.HTTPError as e:
        return f"refused {e.status_code}: {e.log_message % e.args}"
    raise AssertionError("the spawn neither started nor was refused")


def stored_options(user: User) -> Any:
    return user.orm_spawners[""].user_options


async def test_a_refused_profile_is_not_kept_as_the_next_spawns_options(hub_user: User) -> None:
    assert await spawn(hub_user, {"profile": "large"}) == "started large"
    assert await spawn(hub_user, {"profile": "gpu"}) == "refused 403: alice may not use the profile 'gpu'."
    assert stored_options(hub_user) == {"profile": "large"}
    assert hub_user.spawners[""].user_options == {"profile": "large"}
    # no options: JupyterHub reuses the stored ones, which are those of the last accepted start
    assert await spawn(hub_user) == "started large"


async def test_an_unknown_profile_is_not_kept_either(hub_user: User) -> None:
    assert await spawn(hub_user, {"profile": "no-such"}) == "refused 403: There is no profile 'no-such'."
    assert stored_options(hub_user) == {}
    assert await spawn(hub_user) == "started small"


async def test_refused_options_stored_earlier_are_dropped_after_one_refusal(hub_user: User) -> None:
    # what an older hub (or a change of rights in atrium.yaml) left as the stored options
    orm_spawner = hub_user.get_or_create_spawner("", "").orm_spawner
    orm_spawner.user_options = {"profile": "gpu"}
    hub_user.db.commit()
    hub_user.spawners.clear()  # as after a hub restart: the spawner is built from the database
    assert await spawn(hub_user) == "refused 403: alice may not use the profile 'gpu'."
    assert stored_options(hub_user) == {}
    assert await spawn(hub_user) == "started small"
