"""Make group membership removals from the Atrium config reach the hub.

JupyterHub 5's `load_groups` only adds: at startup it creates the listed groups and
appends the listed members, but never takes anyone out (see `JupyterHub.init_groups`).
A user dropped from a group in `atrium.yaml` would keep the group, and with it
any profile that group grants.

The fix uses the order of JupyterHub's startup: `init_users` calls
`Authenticator.add_user` for every user in the database, and only then does
`init_groups` apply `load_groups`. `add_user` here takes each user out of every
hub group the config does not give them (including groups that left the config),
and `load_groups` then adds what the config lists. After startup the hub's
memberships equal the config exactly. `add_user` also runs when a user is created
later (first login, REST API), which applies the same rule.

What must stay true: the config is the only source of group membership; changes
made through the admin UI or REST API last until the next hub restart (every
deploy that changes the config restarts the hub).
"""

from __future__ import annotations

import inspect
from typing import Any

from sqlalchemy.orm import object_session
from traitlets import Dict, List, Unicode
from traitlets.config import LoggingConfigurable


class GroupSyncMixin(LoggingConfigurable):
    """Authenticator mixin: hub group membership follows `atrium_user_groups`."""

    atrium_user_groups = Dict(
        key_trait=Unicode(),
        value_trait=List(Unicode()),
        help="Hub groups of each user, from the Atrium config. Users not listed belong to no group.",
    ).tag(config=True)

    def add_user(self, user: Any) -> Any:
        result = super().add_user(user)  # type: ignore[misc]
        if inspect.isawaitable(result):

            async def finish() -> None:
                await result
                self.sync_user_groups(user)

            return finish()
        self.sync_user_groups(user)
        return result

    def sync_user_groups(self, user: Any) -> list[str]:
        """Remove `user` from hub groups the config does not give them; return their names."""
        orm_user = getattr(user, "orm_user", user)
        wanted = set(self.atrium_user_groups.get(orm_user.name, ()))
        stale = [g for g in orm_user.groups if g.name not in wanted]
        if not stale:
            return []
        for group in stale:
            orm_user.groups.remove(group)
        session = object_session(orm_user)
        if session is not None:
            session.commit()
        names = sorted(g.name for g in stale)
        self.log.info("Removed %s from hub groups not in the Atrium config: %s", orm_user.name, ", ".join(names))
        return names
