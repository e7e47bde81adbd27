/**
 * What the hub tells the panel: the Jitsi server, the user's display name and the
 * rooms this user may join (GET <hub prefix>atrium/videochat, answered by the hub
 * glue from the hub's own group membership). Pure, with no JupyterLab imports, so
 * Node's test runner covers it too.
 */

export type RoomKind = "group" | "room";

export interface Room {
  /** The group or room name from atrium.yaml, shown in the list. */
  name: string;
  kind: RoomKind;
  /** The Jitsi room: <project>-<name>. */
  roomName: string;
}

export interface VideoChatInfo {
  /** Jitsi Meet server, host[:port]. */
  domain: string;
  displayName: string;
  rooms: Room[];
}

/** The hub answered, but not with what the panel can use; the message is for people. */
export class HubAnswerError extends Error {}

/** Where the hub serves the room list; hubPrefix is JupyterHub's page option ("/hub/"). */
export function roomsUrl(hubHost: string, hubPrefix: string): string {
  const prefix = hubPrefix.endsWith("/") ? hubPrefix : `${hubPrefix}/`;
  return `${hubHost}${prefix}atrium/videochat`;
}

/** Jitsi Meet serves its IFrame API script at the root of the server. */
export function externalApiUrl(domain: string): string {
  return `https://${domain}/external_api.js`;
}

const DOMAIN = /^[A-Za-z0-9.-]+(:\d+)?$/;

function text(v: unknown, what: string): string {
  if (typeof v !== "string" || v === "") throw new HubAnswerError(`the hub's answer has no ${what}`);
  return v;
}

/** Check the hub's JSON and keep only what the panel uses. */
export function parseVideoChatInfo(data: unknown): VideoChatInfo {
  if (typeof data !== "object" || data === null)
    throw new HubAnswerError("the hub's answer is not an object");
  const d = data as Record<string, unknown>;
  const domain = text(d.domain, "Jitsi domain");
  // The domain goes into a script URL: accept a host name and port only.
  if (!DOMAIN.test(domain)) throw new HubAnswerError(`"${domain}" is not a Jitsi host name`);
  if (!Array.isArray(d.rooms)) throw new HubAnswerError("the hub's answer has no room list");
  const rooms = d.rooms.map((r: unknown, i: number): Room => {
    const room = (typeof r === "object" && r !== null ? r : {}) as Record<string, unknown>;
    const kind = room.kind === "group" || room.kind === "room" ? room.kind : undefined;
    if (!kind) throw new HubAnswerError(`room ${i + 1} has no kind`);
    return {
      name: text(room.name, `name for room ${i + 1}`),
      kind,
      roomName: text(room.roomName, "room name"),
    };
  });
  return { domain, displayName: text(d.displayName, "display name"), rooms };
}
