"""Password login against the hub password file, and the page to change one's password.

What must stay true:
- only users named in the Atrium config may log in (`allowed_users`, with
  `allow_existing_users` off so users removed from the config are shut out);
- a wrong password, an unknown user and a user outside the config all take the
  same bcrypt time and get the same answer;
- a user can change only their own password, and only by giving the current one;
- bcrypt runs in a worker thread so logins never block the hub's event loop;
- the hub's own add, rename and delete of users are refused (file_users.py).
"""

from __future__ import annotations

import asyncio
from typing import Any

from jupyterhub.auth import Authenticator
from jupyterhub.handlers import BaseHandler
from tornado import web
from traitlets import Unicode

from .file_users import file_users_handlers
from .membership import GroupSyncMixin
from .passwords import MIN_LENGTH, PasswordFileError, PasswordStore, password_problem
from .videochat import videochat_handlers

PASSWORD_PAGE = "atrium/password"
PASSWORD_TEMPLATE = "atrium-password.html"


class PasswordChangeHandler(BaseHandler):
    """GET shows the form; POST checks the current password and stores the new one."""

    def _store(self) -> PasswordStore:
        store = getattr(self.authenticator, "password_store", None)
        if not isinstance(store, PasswordStore):
            raise web.HTTPError(404, "This hub does not use Atrium passwords.")
        return store

    async def _page(self, *, error: str | None = None, message: str | None = None) -> None:
        html = await self.render_template(
            PASSWORD_TEMPLATE,
            error=error,
            message=message,
            min_length=MIN_LENGTH,
            action=self.request.path,
        )
        self.finish(html)

    @web.authenticated
    async def get(self) -> None:
        self._store()
        await self._page()

    @web.authenticated
    async def post(self) -> None:
        store = self._store()
        name = self.current_user.name
        old = self.get_body_argument("old_password", default="")
        new = self.get_body_argument("new_password", default="")
        confirm = self.get_body_argument("confirm_password", default="")

        error: str | None
        try:
            if not await asyncio.to_thread(store.verify, name, old):
                error = "The current password is not correct."
            elif new != confirm:
                error = "The new password and its confirmation differ."
            elif new == old:
                error = "The new password is the same as the current one."
            else:
                error = password_problem(new)
            if error is None:
                await asyncio.to_thread(store.set, name, new)
        except PasswordFileError as e:
            self.log.error("Password change for %s failed: %s", name, e)
            raise web.HTTPError(500, "The password could not be changed; please tell an admin.") from None

        if error:
            self.set_status(400)
            await self._page(error=error)
            return
        self.log.info("%s changed their hub password", name)
        await self._page(message="Your password has been changed.")


class AtriumPasswordAuthenticator(GroupSyncMixin, Authenticator):
    """Checks bcrypt hashes kept in `password_file`; offers /hub/atrium/password."""

    password_file = Unicode(
        help="JSON file of user name to bcrypt hash, written by `python -m atrium_hub.passwords`.",
    ).tag(config=True)

    _store: PasswordStore | None = None

    @property
    def password_store(self) -> PasswordStore:
        if self._store is None or str(self._store.path) != self.password_file:
            self._store = PasswordStore(self.password_file)
        return self._store

    async def authenticate(self, handler: Any, data: dict[str, Any] | None) -> str | None:
        data = data or {}
        name: str = self.normalize_username(str(data.get("username") or ""))
        password = str(data.get("password") or "")
        if not name or not password:
            return None
        store = self.password_store
        try:
            if not self.check_allowed(name, None):
                await asyncio.to_thread(store.burn_time, password)
                self.log.warning("Login refused for %s: not a user in the Atrium config", name)
                return None
            if await asyncio.to_thread(store.verify, name, password):
                return name
        except PasswordFileError as e:
            self.log.error("Cannot check the password of %s: %s", name, e)
            return None
        self.log.warning("Wrong password for %s", name)
        return None

    def get_handlers(self, app: Any) -> list[tuple[str, Any]]:
        # Atrium's own hub pages ride on the authenticator: JupyterHub's extra_handlers is deprecated.
        return [
            *file_users_handlers(),
            *super().get_handlers(app),
            (f"/{PASSWORD_PAGE}", PasswordChangeHandler),
            *videochat_handlers(),
        ]
