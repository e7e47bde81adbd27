"""Which profiles a user may use, and which one a spawn request gets.

Pure functions over `settings.Profile`; the spawner feeds them the user's name and
hub group names. What must stay true:

- a profile with no `groups` and no `users` is open to everyone; otherwise a user
  may use it when named in `users` or a member of one of `groups`;
- the form lists exactly the profiles `allowed_profiles` returns, and
  `choose_profile` refuses anything outside that list, whatever the request said
  (form field, query argument or REST JSON body).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .settings import Profile

PROFILE_OPTION = "profile"


class ProfileRefused(Exception):
    """The request names a profile the user may not use (or no profile is open to them)."""

    def __init__(self, message: str, status: int = 403) -> None:
        self.status = status
        super().__init__(message)


def may_use(profile: Profile, user: str, groups: Iterable[str]) -> bool:
    if not profile.groups and not profile.users:
        return True
    return user in profile.users or not set(profile.groups).isdisjoint(groups)


def allowed_profiles(profiles: Sequence[Profile], user: str, groups: Iterable[str]) -> list[Profile]:
    group_set = set(groups)
    return [p for p in profiles if may_use(p, user, group_set)]


def default_profile(allowed: Sequence[Profile]) -> Profile | None:
    """The profile marked default when the user may use it, else their first one."""
    for p in allowed:
        if p.default:
            return p
    return allowed[0] if allowed else None


def choose_profile(profiles: Sequence[Profile], user: str, groups: Iterable[str], requested: object) -> Profile | None:
    """Resolve the requested profile name for `user`.

    Returns None only when no profiles are configured at all (then no limits apply).
    Raises ProfileRefused for an unknown or forbidden name, or when the user may
    use none of the configured profiles.
    """
    if not profiles:
        return None
    allowed = allowed_profiles(profiles, user, groups)
    if requested is None or requested == "":
        chosen = default_profile(allowed)
        if chosen is None:
            raise ProfileRefused(f"No profile is available to {user}; ask an admin to grant one.")
        return chosen
    if not isinstance(requested, str):
        raise ProfileRefused(f"The profile must be given as a name, not {type(requested).__name__}.", status=400)
    for p in allowed:
        if p.name == requested:
            return p
    if any(p.name == requested for p in profiles):
        raise ProfileRefused(f"{user} may not use the profile {requested!r}.")
    raise ProfileRefused(f"There is no profile {requested!r}.")


def requested_profile(user_options: object) -> object:
    """The raw profile value a request carried, from form-derived or JSON user_options."""
    if not isinstance(user_options, dict):
        return None
    value = user_options.get(PROFILE_OPTION)
    # form data that bypassed options_from_form arrives as a list of strings
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    return value
