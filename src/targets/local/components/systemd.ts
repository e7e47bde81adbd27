/** On a systemd host, one unit runs the supervisor; installed and enabled by deploy. */
import { existsSync } from "node:fs";
import { posix } from "node:path";
import { hashText } from "../../../lib/hash.js";
import type { Component } from "../../component.js";
import type { LocalContext } from "../context.js";
import { run } from "../exec.js";
import { writeFileAtomic } from "../fsutil.js";
import { renderSystemdUnit, unitName } from "../systemd-unit.js";

export const UNIT_DIR = "/etc/systemd/system";

export function systemdComponent(ctx: LocalContext): Component | undefined {
  if (!ctx.systemd) return undefined;
  const name = unitName(ctx.platform);
  const text = renderSystemdUnit(ctx.platform, ctx.placement);
  const path = posix.join(UNIT_DIR, name);
  return {
    name: "systemd-unit",
    title: `systemd unit ${name}`,
    spec: { path, unit: hashText(text) },
    present: () => existsSync(path),
    async apply() {
      writeFileAtomic(path, text, 0o644);
      await run("systemctl", ["daemon-reload"]);
      await run("systemctl", ["enable", name]);
      return {};
    },
    async remove() {
      await run("systemctl", ["disable", "--now", name], { okCodes: [1, 5] });
    },
  };
}
