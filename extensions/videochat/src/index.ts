/**
 * Atrium's Video Chat for JupyterLab: a launcher card and a command palette entry
 * open the room list, and joining a room opens the meeting in a main area tab.
 *
 * The room list comes from the hub (GET <hubPrefix>atrium/videochat), which JupyterLab
 * reaches on the same origin with the hub's login cookie; the hub answers from its
 * own group membership, so a user sees exactly the rooms of their groups plus the
 * rooms open to everyone. Deploy installs this extension only when video chat is on.
 */
import type { JupyterFrontEnd, JupyterFrontEndPlugin } from "@jupyterlab/application";
import { ICommandPalette, MainAreaWidget } from "@jupyterlab/apputils";
import { PageConfig } from "@jupyterlab/coreutils";
import { ILauncher } from "@jupyterlab/launcher";
import { LabIcon } from "@jupyterlab/ui-components";
import { HubAnswerError, parseVideoChatInfo, type Room, roomsUrl, type VideoChatInfo } from "./hub.js";
import { MeetingPanel, RoomsPanel } from "./panel.js";

const OPEN = "atrium-videochat:open";
const CATEGORY = "Other";

const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16">
  <g class="jp-icon3" fill="#616161">
    <rect x="2" y="6" width="13" height="12" rx="2.5"/>
    <path d="M16.5 10.2 21 7.4c.5-.3 1 .1 1 .6v8c0 .5-.5.9-1 .6l-4.5-2.8z"/>
  </g>
</svg>`;

const videoIcon = new LabIcon({ name: "atrium-videochat:icon", svgstr: ICON_SVG });

async function loadRooms(): Promise<VideoChatInfo> {
  const hubPrefix = PageConfig.getOption("hubPrefix");
  if (!hubPrefix) throw new HubAnswerError("Video Chat needs JupyterLab started by the Atrium hub.");
  const url = roomsUrl(PageConfig.getOption("hubHost"), hubPrefix);
  // A redirect means the hub's login cookie is gone: it would send the login page.
  const res = await fetch(url, {
    credentials: "same-origin",
    redirect: "manual",
    cache: "no-store",
    headers: { Accept: "application/json" },
  });
  if (res.type === "opaqueredirect" || res.status === 401 || res.status === 403) {
    throw new HubAnswerError("Your hub session has ended. Reload the page to log in again.");
  }
  if (res.status === 404) throw new HubAnswerError("Video chat is not enabled on this platform.");
  if (!res.ok) throw new HubAnswerError(`The hub could not list your rooms (HTTP ${res.status}).`);
  return parseVideoChatInfo(await res.json());
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: "@atrium/videochat:plugin",
  description: "Video Chat: Jitsi Meet rooms for the user's groups, inside JupyterLab.",
  autoStart: true,
  requires: [ICommandPalette],
  optional: [ILauncher],
  activate: (app: JupyterFrontEnd, palette: ICommandPalette, launcher: ILauncher | null) => {
    let list: MainAreaWidget<RoomsPanel> | undefined;
    const meetings = new Map<string, MainAreaWidget<MeetingPanel>>();

    const join = (info: VideoChatInfo, room: Room) => {
      const open = meetings.get(room.roomName);
      if (open && !open.isDisposed) {
        app.shell.activateById(open.id);
        return;
      }
      let widget: MainAreaWidget<MeetingPanel> | undefined;
      const content = new MeetingPanel(info, room, () => widget?.dispose());
      widget = new MainAreaWidget({ content });
      widget.id = `atrium-videochat-meeting-${room.roomName}`;
      widget.title.icon = videoIcon;
      widget.title.closable = true;
      widget.disposed.connect(() => meetings.delete(room.roomName));
      meetings.set(room.roomName, widget);
      app.shell.add(widget, "main");
      app.shell.activateById(widget.id);
    };

    app.commands.addCommand(OPEN, {
      label: "Video Chat",
      caption: "Open the Video Chat rooms of your groups",
      icon: videoIcon,
      execute: () => {
        if (!list || list.isDisposed) {
          list = new MainAreaWidget({ content: new RoomsPanel({ load: loadRooms, join }) });
          list.id = "atrium-videochat-rooms";
          list.title.icon = videoIcon;
          list.title.closable = true;
          app.shell.add(list, "main");
        } else {
          void list.content.refresh();
        }
        app.shell.activateById(list.id);
      },
    });
    palette.addItem({ command: OPEN, category: "Video Chat" });
    launcher?.add({ command: OPEN, category: CATEGORY, rank: 50 });
  },
};

export default plugin;
