/**
 * The two widgets of the Video Chat panel: the room list (rooms of the user's
 * groups, then the rooms open to everyone) and a meeting, which embeds Jitsi Meet
 * through its IFrame API. The list comes from the hub on every refresh; nothing the
 * user can edit decides which rooms are shown.
 */
import { Widget } from "@lumino/widgets";
import type { Room, VideoChatInfo } from "./hub.js";
import { type JitsiMeetApi, loadJitsi } from "./jitsi.js";

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export interface RoomsPanelOptions {
  load(): Promise<VideoChatInfo>;
  join(info: VideoChatInfo, room: Room): void;
}

export class RoomsPanel extends Widget {
  private readonly body = el("div", "atrium-VideoChat-body");
  private loading = false;

  constructor(private readonly options: RoomsPanelOptions) {
    super();
    this.addClass("atrium-VideoChat");
    this.title.label = "Video Chat";
    this.title.caption = "Video meetings with your groups";
    const header = el("div", "atrium-VideoChat-header");
    header.append(el("h2", "atrium-VideoChat-title", "Video Chat"));
    const refresh = el("button", "jp-Button jp-mod-styled jp-mod-reject atrium-VideoChat-refresh", "Refresh");
    refresh.type = "button";
    refresh.addEventListener("click", () => void this.refresh());
    header.append(refresh);
    this.node.append(header, this.body);
  }

  protected override onAfterAttach(): void {
    void this.refresh();
  }

  async refresh(): Promise<void> {
    if (this.loading) return;
    this.loading = true;
    this.body.replaceChildren(el("p", "atrium-VideoChat-status", "Loading your rooms…"));
    try {
      this.showRooms(await this.options.load());
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.body.replaceChildren(el("p", "atrium-VideoChat-status atrium-VideoChat-error", message));
    } finally {
      this.loading = false;
    }
  }

  private showRooms(info: VideoChatInfo): void {
    const intro = el("p", "atrium-VideoChat-intro");
    intro.append(
      "Meetings run on ",
      el("strong", "", info.domain),
      "; you join as ",
      el("strong", "", info.displayName),
      ".",
    );
    const sections: Array<[string, Room[]]> = [
      ["Your groups", info.rooms.filter((r) => r.kind === "group")],
      ["Open to everyone", info.rooms.filter((r) => r.kind === "room")],
    ];
    const parts: HTMLElement[] = [intro];
    for (const [heading, rooms] of sections) {
      if (rooms.length === 0) continue;
      parts.push(el("h3", "atrium-VideoChat-heading", heading));
      const list = el("ul", "atrium-VideoChat-rooms");
      for (const room of rooms) list.append(this.row(info, room));
      parts.push(list);
    }
    if (info.rooms.length === 0) {
      parts.push(el("p", "atrium-VideoChat-status", "You are in no group, and no room is open to everyone."));
    }
    this.body.replaceChildren(...parts);
  }

  private row(info: VideoChatInfo, room: Room): HTMLElement {
    const item = el("li", "atrium-VideoChat-room");
    item.dataset.room = room.roomName;
    item.dataset.kind = room.kind;
    const label = el("div", "atrium-VideoChat-label");
    label.append(
      el("span", "atrium-VideoChat-name", room.name),
      el("span", "atrium-VideoChat-jitsi", room.roomName),
    );
    const join = el("button", "jp-Button jp-mod-styled jp-mod-accept atrium-VideoChat-join", "Join");
    join.type = "button";
    join.title = `Join ${room.roomName} on ${info.domain}`;
    join.addEventListener("click", () => this.options.join(info, room));
    item.append(label, join);
    return item;
  }
}

/** One meeting; leaving it (Jitsi's hang-up) or closing the tab ends the call. */
export class MeetingPanel extends Widget {
  private api: JitsiMeetApi | undefined;
  private started = false;
  private readonly status = el("p", "atrium-VideoChat-status");
  private readonly frame = el("div", "atrium-VideoChat-frame");

  constructor(
    readonly info: VideoChatInfo,
    readonly room: Room,
    private readonly onLeave: () => void,
  ) {
    super();
    this.addClass("atrium-VideoChat-meeting");
    this.title.label = `Video: ${room.name}`;
    this.title.caption = `${room.roomName} on ${info.domain}`;
    this.title.closable = true;
    this.status.textContent = `Connecting to ${info.domain}…`;
    this.node.append(this.status, this.frame);
  }

  protected override onAfterAttach(): void {
    if (!this.started) void this.start();
  }

  private async start(): Promise<void> {
    this.started = true;
    const { domain, displayName } = this.info;
    try {
      const JitsiMeetExternalAPI = await loadJitsi(domain);
      if (this.isDisposed) return;
      this.api = new JitsiMeetExternalAPI(domain, {
        roomName: this.room.roomName,
        parentNode: this.frame,
        width: "100%",
        height: "100%",
        userInfo: { displayName },
        configOverwrite: { subject: this.room.name },
      });
      this.api.addListener("readyToClose", () => this.onLeave());
      this.status.remove();
    } catch (err) {
      this.status.textContent = err instanceof Error ? err.message : String(err);
      this.status.classList.add("atrium-VideoChat-error");
      this.started = false;
    }
  }

  override dispose(): void {
    if (this.isDisposed) return;
    this.api?.dispose();
    this.api = undefined;
    super.dispose();
  }
}
