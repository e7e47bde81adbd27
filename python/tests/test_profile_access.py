"""The profile and access logic on JupyterHub's base Spawner, with nothing of the local one.

A cluster spawner (KubeSpawner) takes ProfileAccessMixin the same way; these tests pin
that the mixin needs no more than the base class gives.
"""

from __future__ import annotations

from typing import Any

import pytest
from jupyterhub import orm
from jupyterhub.objects import Hub
from jupyterhub.spawner import LocalProcessSpawner, Spawner
from jupyterhub.user import User
from tornado import web
from traitlets.config import Config

from atrium_hub.profile_access import ProfileAccessMixin

GiB = 1024**3


class BareSpawner(ProfileAccessMixin, Spawner):
    """The mixin on the base Spawner: start only checks and applies the profile."""

    async def start(self) -> Any:
        self.apply_profile()
        return ("127.0.0.1", 1)

    async def stop(self, now: bool = False) -> None:
        return None

    async def poll(self) -> int | None:
        return 0


def bare(db: Any, data: dict[str, Any], name: str, options: dict[str, Any]) -> BareSpawner:
    c = Config()
    c.BareSpawner.profiles = data["profiles"]
    orm_user = db.query(orm.User).filter_by(name=name).one()
    user = User(orm_user, settings={"config": c, "hub": Hub()})
    spawner = user._new_spawner("", spawner_class=BareSpawner)
    assert isinstance(spawner, BareSpawner)
    spawner.user_options = options
    return spawner


def test_the_mixin_is_not_tied_to_the_local_spawner() -> None:
    assert not issubclass(ProfileAccessMixin, LocalProcessSpawner)
    assert issubclass(BareSpawner, Spawner) and not issubclass(BareSpawner, LocalProcessSpawner)


async def test_form_and_limits_on_the_base_spawner(db: Any, data: dict[str, Any]) -> None:
    spawner = bare(db, data, "alice", {"profile": "large"})
    html = await spawner.get_options_form()
    assert 'value="large"' in html and 'value="gpu"' not in html
    await spawner.start()
    assert spawner.profile_name == "large"
    assert (spawner.mem_limit, spawner.cpu_limit) == (16 * GiB, 4.0)
    assert spawner.get_state()["atrium_profile"] == "large"


async def test_a_forbidden_profile_is_refused_on_the_base_spawner(db: Any, data: dict[str, Any]) -> None:
    spawner = bare(db, data, "alice", {"profile": "gpu"})
    with pytest.raises(web.HTTPError) as info:
        await spawner.start()
    assert info.value.status_code == 403
    assert spawner.user_options == {}, "the refused options are not kept for the next start"
