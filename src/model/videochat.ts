/**
 * Video chat rooms: one per group (for its members) and one per name in
 * `videochat.rooms` (for everyone). Each is a Jitsi room called
 * `<project>-<name>`, so two platforms on one Jitsi server never share a room.
 * Pure; which rooms a user sees is decided by the hub from its group membership.
 */
import type { Platform } from "./platform.js";

export interface VideoChatRooms {
  /** Every group's room, by group name, in the platform's group order. */
  groupRooms: Array<{ group: string; roomName: string }>;
  /** The rooms open to everyone, sorted, without repeats. */
  rooms: Array<{ name: string; roomName: string }>;
}

export function jitsiRoomName(project: string, name: string): string {
  return `${project}-${name}`;
}

export function videoChatRooms(platform: Platform): VideoChatRooms {
  const project = platform.project.name;
  return {
    groupRooms: platform.groups.map((g) => ({ group: g.name, roomName: jitsiRoomName(project, g.name) })),
    rooms: [...new Set(platform.videochat.rooms)].map((name) => ({
      name,
      roomName: jitsiRoomName(project, name),
    })),
  };
}
