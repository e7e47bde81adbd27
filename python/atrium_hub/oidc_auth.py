"""Login through the team's identity provider: oauthenticator's GenericOAuthenticator, Atrium's rules.

`configure` reads the provider's endpoints (OIDC discovery, or a preset's fixed
URLs) when the hub starts and sets up `AtriumOIDCAuthenticator`. What must stay true:

- the client secret comes from the hub's environment (the supervisor puts it there
  from a root-only file), is removed from the environment once read, and is never
  logged or written anywhere;
- a login the file does not allow is refused with a page saying why;
- when a login completes the person has a Linux account (made at their first
  login, see linux_accounts.py; on a cluster, `linux_accounts` false, only the
  file's users log in and no account is touched), and their Linux groups, ~/shared links, hub groups
  (`manage_groups`) and admin flag are what the file gives them for the provider's
  groups of this login, removals included;
- before a server starts, Linux groups and links are brought in line again from
  the last login, since a deploy resets them to the file's lists;
- hub pages: the Video Chat room list; no password page (the provider keeps passwords);
  the hub's own add, rename and delete of users are refused (file_users.py).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import MutableMapping
from datetime import datetime, timezone
from typing import Any

from jupyterhub import orm, roles
from oauthenticator.generic import GenericOAuthenticator
from sqlalchemy.orm import object_session
from tornado import web
from traitlets import Dict, Instance, List, Unicode
from traitlets.config import Config

from .file_users import file_users_handlers
from .linux_accounts import Account, AccountError, LinuxAccounts
from .oidc import (
    AccountRecord,
    AccountRecords,
    FetchJson,
    OidcPolicy,
    OidcSetupError,
    Provider,
    fetch_json,
    platform_members,
    posix_name,
    resolve_provider,
    take_client_secret,
)
from .settings import Settings
from .videochat import videochat_handlers

# Where update_auth_model leaves Atrium's view of a login for the later steps.
ATRIUM_KEY = "atrium"


def _refuse(status: int, message: str) -> web.HTTPError:
    """An error whose message JupyterHub's error page shows as it is, under a short title."""
    reason = "Login refused" if status == 403 else "Login failed"
    error = web.HTTPError(status, "%s", message, reason=reason)
    error.jupyterhub_message = message  # type: ignore[attr-defined]
    return error


class AtriumOIDCAuthenticator(GenericOAuthenticator):
    """GenericOAuthenticator with Atrium's names, groups, admins and Linux accounts."""

    policy = Instance(OidcPolicy, allow_none=True, help="The file's rules for logins.").tag(config=True)
    provider = Instance(Provider, allow_none=True, help="Endpoints and claims, defaults filled in.").tag(config=True)
    startup_groups = Dict(
        key_trait=Unicode(),
        value_trait=List(Unicode()),
        help="Hub groups of each known user when the hub starts (the file's, and those of their last login).",
    ).tag(config=True)
    services_role = Unicode("", help="Role giving users Atrium's services; granted at a first login.").tag(config=True)
    linux = Instance(LinuxAccounts, args=(), help="Makes and updates Linux accounts.")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # one account change at a time: two logins of one person must not both run useradd
        self._account_lock = asyncio.Lock()
        self._signed_up: set[str] = set()

    def _rules(self) -> tuple[OidcPolicy, Provider]:
        if self.policy is None or self.provider is None:
            raise RuntimeError("AtriumOIDCAuthenticator is not configured; use atrium_hub.oidc_auth.configure")
        return self.policy, self.provider

    # --- who is this ---------------------------------------------------------------

    def normalize_username(self, username: str) -> str:
        return posix_name(username)

    def user_info_to_username(self, user_info: dict[str, Any]) -> str:
        _, provider = self._rules()
        claim = provider.username_claim
        value = user_info.get(claim)
        if not isinstance(value, str) or not value.strip():
            raise _refuse(
                403,
                f"{provider.login_service} did not send the {claim} claim, so the hub can't tell who you are. "
                "Ask an admin to check auth.username_claim and auth.scopes.",
            )
        if claim == "email" and user_info.get("email_verified") is False:
            raise _refuse(403, f"{provider.login_service} has not verified your e-mail address {value}.")
        return value

    async def token_to_user(self, token_info: dict[str, Any]) -> Any:
        info = await super().token_to_user(token_info)
        _, provider = self._rules()
        if provider.github_api_url and isinstance(info, dict):
            info = {**info, provider.groups_claim: await self._github_teams(token_info)}
        return info

    async def _github_teams(self, token_info: dict[str, Any]) -> list[str]:
        """The user's teams as "<org>/<team>" (needs the read:org scope)."""
        _, provider = self._rules()
        headers = self.build_userdata_request_headers(
            token_info["access_token"], str(token_info.get("token_type") or "bearer")
        )
        names: list[str] = []
        for page in range(1, 11):
            teams = await self.httpfetch(
                f"{provider.github_api_url}/user/teams?per_page=100&page={page}",
                "Fetching GitHub teams...",
                method="GET",
                headers=headers,
                validate_cert=self.validate_server_cert,
            )
            if not isinstance(teams, list):
                break
            for team in teams:
                org = (team.get("organization") or {}).get("login") if isinstance(team, dict) else None
                slug = team.get("slug") if isinstance(team, dict) else None
                if isinstance(org, str) and isinstance(slug, str):
                    names.append(f"{org}/{slug}")
            if len(teams) < 100:
                break
        return names

    # --- what they get -----------------------------------------------------------------

    async def update_auth_model(self, auth_model: dict[str, Any]) -> dict[str, Any]:
        policy, provider = self._rules()
        info = auth_model["auth_state"][self.user_auth_state_key]
        name = auth_model["name"]
        provider_groups = policy.provider_groups(info.get(provider.groups_claim))
        auth_model["admin"] = policy.is_admin(name, provider_groups)
        auth_model["auth_state"][ATRIUM_KEY] = {
            "claim": str(info.get(provider.username_claim)),
            "provider_groups": provider_groups,
            "groups": policy.platform_groups(name, provider_groups),
        }
        return auth_model

    async def get_user_groups(self, auth_state: dict[str, Any]) -> set[str]:
        return set(auth_state[ATRIUM_KEY]["groups"])

    async def check_allowed(self, username: str, auth_model: dict[str, Any] | None = None) -> bool:
        policy, _ = self._rules()
        if auth_model is None:
            return username in policy.users
        provider_groups = auth_model["auth_state"][ATRIUM_KEY]["provider_groups"]
        if policy.allowed(username, provider_groups):
            return True
        self.log.warning(
            "Login refused for %s: not in the file's users, and no allowed group among %s",
            username,
            ", ".join(provider_groups) or "no groups",
        )
        raise _refuse(403, policy.refusal(username, provider_groups))

    async def run_post_auth_hook(self, handler: Any, auth_model: dict[str, Any]) -> Any:
        await self.provision(auth_model["name"], auth_model["auth_state"][ATRIUM_KEY])
        return await super().run_post_auth_hook(handler, auth_model)

    # --- the Linux side ----------------------------------------------------------------

    def _records(self) -> AccountRecords:
        policy, _ = self._rules()
        return AccountRecords(policy.oidc.accounts_file)

    async def provision(self, name: str, login: dict[str, Any]) -> None:
        """Make the account on a first login; bring groups and links in line; remember the login."""
        policy, provider = self._rules()
        claim = str(login["claim"])
        problem = policy.name_problem(name)
        if problem:
            self.log.warning("Login refused for %r (%s %r): %s", name, provider.username_claim, claim, problem)
            raise _refuse(403, f"{problem}. Ask an admin to give you another name at {provider.login_service}.")
        async with self._account_lock:
            store = self._records()
            try:
                records = store.load()
            except OidcSetupError as e:
                self.log.error("Login of %s failed: %s", name, e)
                raise _refuse(500, "Your account can't be checked right now; please tell an admin.") from None
            record = records.get(name)
            if record is not None and record.claim != claim:
                self.log.warning(
                    "Login refused for %s %r: the name %s belongs to %r",
                    provider.username_claim,
                    claim,
                    name,
                    record.claim,
                )
                raise _refuse(
                    403,
                    f"Your {provider.username_claim} {claim!r} gives the user name {name}, which already belongs "
                    f"to someone else on {policy.title}. Ask an admin to sort it out.",
                )
            if not policy.oidc.linux_accounts:
                # a cluster: the file's users only, their accounts are deploy's (check_allowed let them in)
                self._remember(store, records, name, claim, record.created if record else False, login)
                return
            entry = self.linux.lookup(name)
            created = record.created if record else False
            try:
                if entry is None:
                    if self.linux.group_exists(name):
                        raise _refuse(
                            403,
                            f"The user name {name} is taken by a group on this machine; "
                            f"ask an admin to give you another name at {provider.login_service}.",
                        )
                    await self.linux.ensure_user(Account(name, policy.home(name), policy.shell(name)))
                    self.log.info("Made the Linux account %s for %s %r", name, provider.username_claim, claim)
                    created = True
                    entry = self.linux.lookup(name)
                    if entry is None:
                        raise AccountError(f"useradd made no user {name}")
                elif record is None and name not in policy.users:
                    self.log.warning("Login refused for %s: a Linux account of that name exists already", name)
                    raise _refuse(
                        403,
                        f"A Linux account named {name} already exists on this machine and was not made for you; "
                        "ask an admin.",
                    )
                await self._sync_linux(name, login["groups"])
            except AccountError as e:
                self.log.error("Setting up the account of %s failed: %s", name, e)
                raise _refuse(500, "Your account could not be set up; please tell an admin.") from None
            self._remember(store, records, name, claim, created, login)

    def _remember(
        self,
        store: AccountRecords,
        records: dict[str, AccountRecord],
        name: str,
        claim: str,
        created: bool,
        login: dict[str, Any],
    ) -> None:
        """Record who holds the name (their claim) and the groups of this login."""
        records[name] = AccountRecord(
            claim=claim,
            created=created,
            groups=list(login["provider_groups"]),
            last_login=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        )
        store.save(records)
        self._signed_up.add(name)

    async def _sync_linux(self, name: str, groups: list[str]) -> None:
        policy, _ = self._rules()
        entry = self.linux.lookup(name)
        if entry is None:
            return
        added, removed = await self.linux.sync_groups(name, groups, policy.groups)
        for g in added:
            self.log.info("Added %s to the Linux group %s", name, g)
        for g in removed:
            self.log.info("Removed %s from the Linux group %s", name, g)
        for change in self.linux.sync_links(entry, entry.pw_dir, policy.shared_folders(groups), policy.oidc.shared_dir):
            self.log.info("%s", change)

    async def pre_spawn_start(self, user: Any, spawner: Any) -> None:
        """Linux groups and links as of the last login, judged by the current file."""
        policy, _ = self._rules()
        if not policy.oidc.linux_accounts:
            return
        try:
            record = self._records().load().get(user.name)
        except OidcSetupError as e:
            self.log.error("Cannot check the groups of %s before their server starts: %s", user.name, e)
            return
        if record is None:
            return
        async with self._account_lock:
            try:
                await self._sync_linux(user.name, policy.platform_groups(user.name, record.groups))
            except AccountError as e:
                self.log.error("Could not bring the groups of %s in line: %s", user.name, e)

    # --- the hub side ----------------------------------------------------------------------

    def add_user(self, user: Any) -> None:
        """At hub start and at a first login: hub groups as the file and the last login give them."""
        super().add_user(user)
        orm_user = getattr(user, "orm_user", user)
        db = object_session(orm_user)
        if db is None:
            return
        wanted = set(self.startup_groups.get(orm_user.name, ()))
        if {g.name for g in orm_user.groups} != wanted:
            groups = [orm.Group.find(db, g) or orm.Group(name=g) for g in sorted(wanted)]
            orm_user.groups = groups
            db.commit()
        known = orm_user.name in self.startup_groups or orm_user.name in self._signed_up
        if self.services_role and known and orm.Role.find(db, self.services_role) is not None:
            roles.grant_role(db, entity=orm_user, role=self.services_role)

    def get_handlers(self, app: Any) -> list[tuple[str, Any]]:
        return [*file_users_handlers(), *super().get_handlers(app), *videochat_handlers()]


def configure(
    c: Config,
    settings: Settings,
    *,
    services_role: str = "",
    environ: MutableMapping[str, str] | None = None,
    fetch: FetchJson = fetch_json,
) -> None:
    """Set JupyterHub up for single sign-on; OidcSetupError if the provider can't be used."""
    oidc = settings.auth.oidc
    if oidc is None:
        raise ValueError("configure needs an oidc auth section")
    provider = resolve_provider(oidc, fetch)
    secret = take_client_secret(oidc.client_secret_env, os.environ if environ is None else environ)
    members = platform_members(settings)
    c.JupyterHub.authenticator_class = AtriumOIDCAuthenticator
    a = c.AtriumOIDCAuthenticator
    a.client_id = oidc.client_id
    a.client_secret = secret
    a.authorize_url = provider.endpoints.authorize_url
    a.token_url = provider.endpoints.token_url
    a.userdata_url = provider.endpoints.userdata_url
    a.scope = list(provider.scopes)
    a.username_claim = provider.username_claim
    a.basic_auth = provider.basic_auth
    a.login_service = provider.login_service
    a.manage_groups = True
    a.policy = OidcPolicy(settings, group_paths=provider.group_paths)
    a.provider = provider
    a.startup_groups = members.groups
    a.services_role = services_role
    a.custom_403_message = f"You may not use {settings.project.title}; ask an admin to add you."
