import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  externalApiUrl,
  HubAnswerError,
  parseVideoChatInfo,
  roomsUrl,
} from "../../extensions/videochat/src/hub.js";
import { validateText } from "../../src/config/load.js";
import type { Platform } from "../../src/model/platform.js";
import { jitsiRoomName, videoChatRooms } from "../../src/model/videochat.js";
import { videoChatComponent } from "../../src/targets/local/components/videochat.js";
import { renderHubConfig } from "../../src/targets/local/hub-config.js";
import { videoChatBuild, videoChatBuilt } from "../../src/targets/videochat-build.js";
import { type Local, localOf } from "./local-of.js";

function localFrom(yaml: string): Local {
  const loaded = validateText("atrium.yaml", yaml);
  assert.deepEqual(loaded.problems, []);
  assert.ok(loaded.config);
  return localOf(loaded.config);
}

const platformOf = (yaml: string): Platform => localFrom(yaml).platform;
const hubVideoChat = (yaml: string) => {
  const { platform, placement } = localFrom(yaml);
  return renderHubConfig(platform, placement).videochat;
};

const TEAM = `
project: {name: lab}
groups: [{name: physics}, {name: bio}]
users:
  - {name: ana, admin: true, groups: [physics, bio]}
  - {name: ben}
videochat:
  jitsi_domain: jitsi.example.org:8443
  rooms: [standup, all-hands, standup]
`;

describe("video chat rooms", () => {
  it("names every room <project>-<name>", () => {
    assert.equal(jitsiRoomName("lab", "physics"), "lab-physics");
    assert.deepEqual(videoChatRooms(platformOf(TEAM)), {
      groupRooms: [
        { group: "bio", roomName: "lab-bio" },
        { group: "physics", roomName: "lab-physics" },
      ],
      rooms: [
        { name: "all-hands", roomName: "lab-all-hands" },
        { name: "standup", roomName: "lab-standup" },
      ],
    });
  });

  it("renders the hub JSON's videochat section with every room named", () => {
    assert.deepEqual(hubVideoChat(TEAM), {
      enabled: true,
      jitsi_domain: "jitsi.example.org:8443",
      project: "lab",
      group_rooms: [
        { group: "bio", room_name: "lab-bio" },
        { group: "physics", room_name: "lab-physics" },
      ],
      rooms: [
        { name: "all-hands", room_name: "lab-all-hands" },
        { name: "standup", room_name: "lab-standup" },
      ],
    });
  });

  it("renders the defaults: the public Jitsi server, on, with no open rooms", () => {
    assert.deepEqual(hubVideoChat("project: {name: solo}\n"), {
      enabled: true,
      jitsi_domain: "meet.jit.si",
      project: "solo",
      group_rooms: [],
      rooms: [],
    });
  });

  it("keeps the section when video chat is off, marked off", () => {
    const off = hubVideoChat(`${TEAM}  enabled: false\n`) as { enabled: boolean };
    assert.equal(off.enabled, false);
  });
});

describe("the panel's view of the hub answer", () => {
  it("builds the hub and script URLs", () => {
    assert.equal(roomsUrl("", "/hub/"), "/hub/atrium/videochat");
    assert.equal(
      roomsUrl("https://hub.example.org", "/jupyter/hub"),
      "https://hub.example.org/jupyter/hub/atrium/videochat",
    );
    assert.equal(externalApiUrl("meet.jit.si"), "https://meet.jit.si/external_api.js");
    assert.equal(externalApiUrl("127.0.0.1:8443"), "https://127.0.0.1:8443/external_api.js");
  });

  it("keeps the rooms of a good answer", () => {
    const answer = {
      domain: "meet.jit.si",
      displayName: "ana",
      rooms: [{ name: "bio", kind: "group", roomName: "lab-bio", extra: 1 }],
      extra: true,
    };
    assert.deepEqual(parseVideoChatInfo(answer), {
      domain: "meet.jit.si",
      displayName: "ana",
      rooms: [{ name: "bio", kind: "group", roomName: "lab-bio" }],
    });
  });

  it("refuses answers it cannot use, saying why", () => {
    const good = { domain: "meet.jit.si", displayName: "ana", rooms: [] };
    const cases: Array<[unknown, string]> = [
      ["<html>", "the hub's answer is not an object"],
      [{ ...good, domain: "evil.example/x.js?" }, '"evil.example/x.js?" is not a Jitsi host name'],
      [{ ...good, rooms: undefined }, "the hub's answer has no room list"],
      [{ ...good, rooms: [{ name: "a", kind: "secret", roomName: "x-a" }] }, "room 1 has no kind"],
      [{ ...good, displayName: "" }, "the hub's answer has no display name"],
    ];
    for (const [answer, message] of cases) {
      assert.throws(
        () => parseVideoChatInfo(answer),
        (e: unknown) => {
          assert.ok(e instanceof HubAnswerError);
          assert.equal(e.message, message);
          return true;
        },
      );
    }
  });
});

describe("the videochat component", { skip: videoChatBuilt() ? false : "the extension is not built" }, () => {
  it("installs the built extension into the user env, and removes it when video chat is off", async () => {
    const root = mkdtempSync(join(tmpdir(), "atrium-videochat-"));
    try {
      const { platform, placement } = localFrom(
        `project: {name: solo}\ntarget: {type: local, prefix: ${root}}\n`,
      );
      mkdirSync(placement.paths.userVenv, { recursive: true });
      const quiet = { detail() {}, important() {} };
      const on = videoChatComponent({
        platform,
        placement,
        artifacts: new Map(),
        systemd: false,
      });
      assert.equal(on.present?.(), false);
      await on.apply(undefined, quiet);
      const dir = join(placement.paths.userVenv, "share", "jupyter", "labextensions", "@atrium", "videochat");
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
        name: string;
        jupyterlab: { _build: { load: string } };
      };
      assert.equal(pkg.name, "@atrium/videochat");
      assert.deepEqual(
        readFileSync(join(dir, pkg.jupyterlab._build.load)),
        readFileSync(join(videoChatBuild(), pkg.jupyterlab._build.load)),
      );
      assert.equal(statSync(join(dir, pkg.jupyterlab._build.load)).mode & 0o777, 0o644);
      assert.equal(statSync(join(dir, "static")).mode & 0o777, 0o755);
      assert.equal(on.present?.(), true);

      const offPlatform: Platform = { ...platform, videochat: { ...platform.videochat, enabled: false } };
      const off = videoChatComponent({
        platform: offPlatform,
        placement,
        artifacts: new Map(),
        systemd: false,
      });
      assert.notDeepEqual(off.spec, on.spec);
      assert.equal(off.present?.(), false);
      await off.apply(undefined, quiet);
      assert.equal(existsSync(dir), false);
      assert.equal(existsSync(join(dir, "..")), false, "the empty @atrium folder is left behind");
      assert.equal(off.present?.(), true);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
