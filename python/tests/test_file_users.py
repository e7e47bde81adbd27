"""The hub's own add, rename and delete of users are shadowed by Atrium's handlers.

What the handlers answer is checked against a running hub in test_integration.py and
the end-to-end tests; here: that JupyterHub's real routing picks them, for both of
Atrium's authenticators, and that the admin page hides the buttons.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import jinja2
import pytest
from jupyterhub.apihandlers.users import UserServerAPIHandler
from jupyterhub.app import JupyterHub
from jupyterhub.auth import Authenticator
from tornado.httputil import HTTPHeaders, HTTPServerRequest, RequestStartLine
from tornado.web import Application

from atrium_hub.auth import AtriumPasswordAuthenticator
from atrium_hub.file_users import FileUserAPIHandler, FileUserListAPIHandler
from atrium_hub.oidc_auth import AtriumOIDCAuthenticator


def routed(authenticator: Authenticator, path: str) -> type:
    """The handler class JupyterHub's own handler list gives `path`."""
    hub = JupyterHub()
    hub.authenticator = authenticator
    hub.init_handlers()
    start = RequestStartLine("POST", path, "HTTP/1.1")
    request = HTTPServerRequest(start_line=start, headers=HTTPHeaders({"Host": "localhost"}))
    return Application(hub.handlers).find_handler(request).handler_class  # type: ignore[no-any-return]


@pytest.mark.parametrize("authenticator", [AtriumPasswordAuthenticator, AtriumOIDCAuthenticator])
def test_the_user_routes_reach_atriums_handlers(authenticator: type[Authenticator]) -> None:
    assert routed(authenticator(), "/hub/api/users") is FileUserListAPIHandler
    assert routed(authenticator(), "/hub/api/users/someone") is FileUserAPIHandler
    # the routes below a user stay JupyterHub's
    assert routed(authenticator(), "/hub/api/users/someone/server") is UserServerAPIHandler


def test_without_atriums_authenticator_jupyterhub_keeps_its_own() -> None:
    assert routed(Authenticator(), "/hub/api/users/someone") is not FileUserAPIHandler


def test_the_admin_page_hides_add_rename_and_delete() -> None:
    ours = str(resources.files("atrium_hub") / "templates")
    default = str(Path(JupyterHub().template_paths[0]))
    # the loader JupyterHub builds: its own templates also under templates/, ours first
    loader = jinja2.ChoiceLoader(
        [
            jinja2.PrefixLoader({"templates": jinja2.FileSystemLoader([default])}, "/"),
            jinja2.FileSystemLoader([ours, default]),
        ]
    )
    env = jinja2.Environment(loader=loader, autoescape=True)
    html = env.get_template("admin.html").render(static_url=lambda path, **_: f"/static/{path}", base_url="/")
    assert 'id="react-admin-hook"' in html  # JupyterHub's page, extended
    style = html[html.index("<style>") : html.index("</style>")]
    for selector in (".add-users-button", "#delete-user", '[data-testid="edit-username-input"]'):
        assert selector in style
    assert "display: none !important" in style
    assert "run <code>atrium deploy</code>" in html
