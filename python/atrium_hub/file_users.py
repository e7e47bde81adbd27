"""Users come from atrium.yaml: the hub's own add, rename and delete of users are refused.

A user added on the hub's admin page would have no Linux account (its server could
never start), and one renamed or deleted there would come back or linger at the next
deploy. So the REST calls the admin page makes for these are answered with 403 and a
message that says to edit the file and deploy. What must stay true:

- refused: POST /hub/api/users, POST /hub/api/users/<name>, DELETE /hub/api/users/<name>,
  and a PATCH /hub/api/users/<name> that changes the name; each only after JupyterHub's
  own scope check, so a caller without the scope gets JupyterHub's own answer;
- everything else on these routes (GET, a PATCH of other fields) is JupyterHub's own;
  a PATCH that repeats the current name (the admin page sends it with every change)
  goes through without it;
- the glue's own sync from the file never goes through these handlers: the hub makes
  the file's users at start (`allowed_users`, `load_groups`, `load_roles`) and, with
  single sign-on, a person at their first login;
- the handlers take JupyterHub's own routes for these handlers, so they shadow them
  when listed first (JupyterHub puts the authenticator's handlers before its own).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar, cast

from jupyterhub.apihandlers import users as users_api
from jupyterhub.scopes import needs_scope
from tornado import web

Method = TypeVar("Method", bound=Callable[..., Any])

FIX = "users come from atrium.yaml. Edit its `users` list and run `atrium deploy`."


def _needs(*scopes: str) -> Callable[[Method], Method]:
    """JupyterHub's scope check (untyped upstream), as a typed decorator."""
    return cast(Callable[[Method], Method], needs_scope(*scopes))


def _refused(action: str) -> web.HTTPError:
    message = f"{action} on the hub is turned off: {FIX}"
    # the message travels as an argument: tornado %-formats log_message
    error = web.HTTPError(403, "%s", message)
    error.jupyterhub_message = message  # type: ignore[attr-defined]
    return error


class FileUserListAPIHandler(users_api.UserListAPIHandler):
    """GET lists users as JupyterHub does; POST (add users) is refused."""

    @_needs("admin:users")
    async def post(self) -> None:
        raise _refused("Adding users")


class FileUserAPIHandler(users_api.UserAPIHandler):
    """GET and PATCH as JupyterHub does; POST (add), DELETE and renaming are refused."""

    @_needs("admin:users")
    async def post(self, user_name: str) -> None:
        raise _refused("Adding a user")

    @_needs("delete:users")
    async def delete(self, user_name: str) -> None:
        raise _refused("Deleting a user")

    @_needs("admin:users")
    async def patch(self, user_name: str) -> None:
        data = self.get_json_body()
        if isinstance(data, dict) and "name" in data:
            if data["name"] != user_name:
                raise _refused("Renaming a user")
            # The admin page repeats the current name whenever it saves, and JupyterHub
            # (6.1) then sets the name to None: an unchanged name is no change.
            del data["name"]
            self.request.body = json.dumps(data).encode()
        await super().patch(user_name)


_REPLACEMENTS: dict[type, type] = {
    users_api.UserListAPIHandler: FileUserListAPIHandler,
    users_api.UserAPIHandler: FileUserAPIHandler,
}


def file_users_handlers() -> list[tuple[str, Any]]:
    """The replacement handlers on JupyterHub's own routes for the user list and one user."""
    found = [(route[0], _REPLACEMENTS[route[1]]) for route in users_api.default_handlers if route[1] in _REPLACEMENTS]
    if len(found) != len(_REPLACEMENTS):
        raise RuntimeError("this JupyterHub has no /api/users routes where Atrium expects them")
    return found
