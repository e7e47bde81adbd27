from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from jupyterhub import orm
from jupyterhub.auth import Authenticator
from jupyterhub.user import User
from traitlets.config import Config

from atrium_hub.membership import GroupSyncMixin


class SyncingAuthenticator(GroupSyncMixin, Authenticator):
    pass


@pytest.fixture
def db() -> Iterator[Any]:
    session = orm.new_session_factory("sqlite:///:memory:")()
    groups = {n: orm.Group(name=n) for n in ("data", "gpu", "old")}
    session.add_all(groups.values())
    for name, member_of in {"alice": ["data", "gpu"], "bob": ["old"], "carol": ["data"]}.items():
        user = orm.User(name=name)
        user.groups = [groups[g] for g in member_of]
        session.add(user)
    session.commit()
    yield session
    session.close()


def authenticator(user_groups: dict[str, list[str]]) -> SyncingAuthenticator:
    c = Config()
    c.GroupSyncMixin.atrium_user_groups = user_groups
    return SyncingAuthenticator(config=c)


def members(db: Any, group: str) -> list[str]:
    return sorted(u.name for u in orm.Group.find(db, group).users)


def test_add_user_removes_memberships_the_config_does_not_give(db: Any) -> None:
    auth = authenticator({"alice": ["data"], "carol": ["data"]})  # bob has left the config
    for user in db.query(orm.User).all():  # what JupyterHub's init_users does at startup
        auth.add_user(user)
    db.expire_all()
    assert members(db, "data") == ["alice", "carol"]
    assert members(db, "gpu") == []
    assert members(db, "old") == []


def test_sync_reports_and_is_idempotent(db: Any) -> None:
    auth = authenticator({"alice": ["data"]})
    alice = orm.User.find(db, "alice")
    assert auth.sync_user_groups(alice) == ["gpu"]
    assert auth.sync_user_groups(alice) == []
    assert [g.name for g in alice.groups] == ["data"]


def test_works_with_the_user_wrapper_and_keeps_allowed_users(db: Any) -> None:
    auth = authenticator({"bob": []})
    auth.allow_existing_users = True
    wrapper = User(orm.User.find(db, "bob"), settings={})
    auth.add_user(wrapper)
    assert members(db, "old") == []
    assert "bob" in auth.allowed_users  # the base add_user still ran


async def test_async_add_user_of_a_parent_is_awaited_first(db: Any) -> None:
    calls: list[str] = []

    class AsyncParent(Authenticator):
        async def add_user(self, user: Any) -> None:
            calls.append(f"parent {user.name}")

    class Syncing(GroupSyncMixin, AsyncParent):
        def sync_user_groups(self, user: Any) -> list[str]:
            calls.append(f"sync {user.name}")
            return super().sync_user_groups(user)

    result = Syncing().add_user(orm.User.find(db, "alice"))
    assert calls == []
    await result
    assert calls == ["parent alice", "sync alice"]
    assert members(db, "data") == ["carol"]
