/**
 * The hub JSON's `videochat` section: the Jitsi server and every room the hub may
 * offer, already named. The hub glue picks each user's rooms from its own group
 * membership (python/atrium_hub/videochat.py); the JupyterLab extension
 * (extensions/videochat) shows them. Also where `npm run build` leaves that
 * extension, for the prerequisite check and the videochat component.
 */
import { existsSync } from "node:fs";
import { posix } from "node:path";
import type { HubSettings } from "../../contracts/hub-settings.js";
import type { Platform } from "../../model/platform.js";
import { videoChatRooms } from "../../model/videochat.js";
import { repoPath } from "../../paths.js";

/** The extension as `npm run build` leaves it: package.json (naming its entry point) and static/. */
export function videoChatBuild(): string {
  return repoPath("extensions", "videochat", "labextension");
}

export function videoChatBuilt(): boolean {
  return existsSync(posix.join(videoChatBuild(), "package.json"));
}

export function renderVideoChat(platform: Platform): HubSettings["videochat"] {
  const { groupRooms, rooms } = videoChatRooms(platform);
  return {
    enabled: platform.videochat.enabled,
    jitsi_domain: platform.videochat.jitsiDomain,
    project: platform.project.name,
    group_rooms: groupRooms.map((r) => ({ group: r.group, room_name: r.roomName })),
    rooms: rooms.map((r) => ({ name: r.name, room_name: r.roomName })),
  };
}
