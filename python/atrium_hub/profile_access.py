"""Profiles and who may use them, for any JupyterHub spawner.

`ProfileAccessMixin` goes in front of a concrete spawner (`class S(ProfileAccessMixin,
LocalProcessSpawner)`, or KubeSpawner on a cluster) and needs only what JupyterHub's
base `Spawner` has: the user and their groups, `user_options`, the limits traits
(`mem_limit`, `cpu_limit`, ...) and the ORM record. What must stay true:
- the form lists only the profiles the user may use, and `apply_profile` re-checks the
  requested profile whatever way it came (form, query, REST JSON body, or options
  reused from an earlier spawn): an unknown or forbidden one is refused with 403
  before anything is started;
- a refused request leaves nothing behind: JupyterHub stores a request's options as
  the user's defaults for the next spawn before the spawner sees them, so a refusal
  puts back the options of the last accepted start (or none, when those are no
  longer allowed either) in the spawner and in the hub database.
How the limits are enforced (cgroups, pod resources) is the concrete spawner's.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from importlib import resources
from typing import TYPE_CHECKING, Any

import jinja2
from sqlalchemy.orm import object_session
from tornado import web
from traitlets import Dict, Integer, List, Unicode, default
from traitlets.config import LoggingConfigurable

from .profiles import ProfileRefused, allowed_profiles, choose_profile, default_profile, requested_profile
from .settings import Profile, parse_profile

FORM_TEMPLATE = "atrium-profiles.html"
STATE_PROFILE = "atrium_profile"


def _template_env() -> jinja2.Environment:
    root = resources.files("atrium_hub") / "templates"
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(root)), autoescape=True)


def render_profile_form(profiles: list[Profile], selected: Profile | None) -> str:
    template = _template_env().get_template(FORM_TEMPLATE)
    return template.render(profiles=profiles, selected=selected.name if selected else "")


if TYPE_CHECKING:
    from jupyterhub.spawner import Spawner as _SpawnerBase
else:
    # A mixin, not a Spawner: JupyterHub refuses a Spawner subclass without its own
    # start/stop/poll. The concrete spawner it goes in front of brings those.
    _SpawnerBase = LoggingConfigurable


def refusal(status: int, message: str) -> web.HTTPError:
    """An HTTP error whose message the spawn page shows as written."""
    # the message travels as an argument: tornado %-formats log_message,
    # and a '%' in a user-supplied profile name must stay literal
    error = web.HTTPError(status, "%s", message)
    error.jupyterhub_message = message  # type: ignore[attr-defined]  # shown on the spawn page
    return error


class ProfileAccessMixin(_SpawnerBase):
    """The profile form, the access check at every start, and the chosen profile's limits."""

    profiles = List(
        Dict(),
        help="Profiles as in the Atrium hub JSON (`profiles[]`); empty means no form and no limits.",
    ).tag(config=True)

    profile_name = Unicode("", help="The profile of the current server.")
    pids_limit = Integer(0, help="Most tasks in the current server's cgroup (from its profile); 0: none.")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # the hub builds a spawner with the options last stored for it: those of the
        # last accepted start, since a refusal puts them back (see _forget_refused_options)
        self._accepted_options: dict[str, Any] = copy.deepcopy(dict(self.user_options or {}))

    # JupyterHub >= 5.3 warns about user_options that no `apply_user_options` hook
    # handles, and logs a traceback when the hook raises. The options are checked
    # and applied in start() (the only place every 5.x and 6.x version calls), so
    # the hook only marks them as handled.
    @default("apply_user_options")
    def _apply_user_options_default(self) -> Callable[[Any, dict[str, Any]], None]:
        return lambda _spawner, _options: None

    def _profiles(self) -> list[Profile]:
        return [parse_profile(p, f"profiles[{i}]") for i, p in enumerate(self.profiles)]

    def _group_names(self) -> list[str]:
        return [g.name for g in getattr(self.user, "groups", None) or []]

    async def get_options_form(self) -> str:
        profiles = self._profiles()
        if not profiles:
            return ""
        allowed = allowed_profiles(profiles, self.user.name, self._group_names())
        return render_profile_form(allowed, default_profile(allowed))

    def options_from_form(self, formdata: dict[str, list[str]]) -> dict[str, Any]:
        values = formdata.get("profile") or []
        return {"profile": values[0]} if values else {}

    def _choose(self, options: dict[str, Any] | None) -> Profile | None:
        """The profile `options` ask for; ProfileRefused when the user may not have it."""
        return choose_profile(self._profiles(), self.user.name, self._group_names(), requested_profile(options))

    def apply_profile(self, user_options: dict[str, Any] | None = None) -> Profile | None:
        """Check the requested profile against the user's rights and set the limits."""
        options = self.user_options if user_options is None else user_options
        try:
            profile = self._choose(options)
        except ProfileRefused as e:
            self.log.warning("Refusing to start %s: %s", self._log_name, e)
            self._forget_refused_options()
            raise refusal(e.status, str(e)) from None
        self._accepted_options = copy.deepcopy(dict(options or {}))
        if profile is None:
            self.profile_name = ""
            self.pids_limit = 0
            return None
        self.profile_name = profile.name
        self.mem_limit = profile.mem_limit or None
        self.mem_guarantee = profile.mem_guarantee or None
        self.cpu_limit = profile.cpu_limit or None
        self.cpu_guarantee = profile.cpu_guarantee or None
        self.pids_limit = profile.pids_limit
        return profile

    def _forget_refused_options(self) -> None:
        """Put back the options of the last accepted start where JupyterHub stored the refused ones.

        A spawn request without options reuses the stored ones; left in place, the
        refused options would refuse every later plain start too.
        """
        previous = self._accepted_options
        try:
            self._choose(previous)
        except ProfileRefused:
            previous = {}  # the user's rights changed since, or an older hub stored refused ones
        self.user_options = copy.deepcopy(previous)
        orm_spawner = self.orm_spawner
        if orm_spawner is None or (orm_spawner.user_options or {}) == previous:
            return
        orm_spawner.user_options = copy.deepcopy(previous)
        session = object_session(orm_spawner)
        if session is not None:
            session.commit()

    # --- state: the current server's profile survives a hub restart -------------

    def get_state(self) -> dict[str, Any]:
        state: dict[str, Any] = super().get_state()
        if self.profile_name:
            state[STATE_PROFILE] = self.profile_name
        return state

    def load_state(self, state: dict[str, Any]) -> None:
        super().load_state(state)
        self.profile_name = state.get(STATE_PROFILE, "")

    def clear_state(self) -> None:
        super().clear_state()
        self.profile_name = ""
