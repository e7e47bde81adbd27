"""The room list of the Video Chat panel: GET /hub/atrium/videochat.

JupyterLab (extensions/videochat) runs under /user/<name>/ on the hub's origin, so
its fetch carries the hub's login cookie and this handler knows who asks. What must
stay true:

- a user gets the rooms of the hub groups they belong to (the hub's membership,
  which follows the Atrium config) plus the rooms open to everyone, and nothing
  else; nothing in the request chooses rooms;
- room names come ready from the hub JSON (`<project>-<name>`); a group room and
  an open room that would be the same Jitsi room are listed once, as the group's;
- with video chat off the page does not exist (404).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from jupyterhub.handlers import BaseHandler
from tornado import web

from .settings import VideoChat

VIDEOCHAT_PAGE = "atrium/videochat"
# Key of the VideoChat settings in the hub's tornado settings (set by hubconfig.apply).
SETTINGS_KEY = "atrium_videochat"


def rooms_for(videochat: VideoChat, user_name: str, user_groups: Iterable[str]) -> dict[str, Any]:
    """The panel's data for one user: their group rooms (by group name), then the open rooms."""
    mine = set(user_groups)
    rooms: list[dict[str, str]] = []
    seen: set[str] = set()
    for g in sorted(videochat.group_rooms, key=lambda g: g.group):
        if g.group in mine and g.room_name not in seen:
            rooms.append({"name": g.group, "kind": "group", "roomName": g.room_name})
            seen.add(g.room_name)
    for room in videochat.rooms:
        if room.room_name not in seen:
            rooms.append({"name": room.name, "kind": "room", "roomName": room.room_name})
            seen.add(room.room_name)
    return {"domain": videochat.jitsi_domain, "displayName": user_name, "rooms": rooms}


class VideoChatHandler(BaseHandler):
    """Answers the logged-in user's rooms as JSON."""

    @web.authenticated
    def get(self) -> None:
        videochat = self.settings.get(SETTINGS_KEY)
        if not isinstance(videochat, VideoChat) or not videochat.enabled:
            raise web.HTTPError(404, "Video chat is not enabled on this platform.")
        user = self.current_user
        payload = rooms_for(videochat, user.name, (g.name for g in user.groups))
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(payload))


def videochat_handlers() -> list[tuple[str, Any]]:
    return [(f"/{VIDEOCHAT_PAGE}", VideoChatHandler)]
