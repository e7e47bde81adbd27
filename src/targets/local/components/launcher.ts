/**
 * <prefix>/bin/atrium: a stable path that runs this installation of Atrium with this
 * Node.js, used by the systemd unit and by people on the machine, and put on PATH as
 * /usr/local/bin/atrium (see ../machine-links.ts) unless a file of someone else's is there.
 */
import { existsSync } from "node:fs";
import type { Component } from "../../component.js";
import type { LocalContext } from "../context.js";
import { writeFileAtomic } from "../fsutil.js";
import {
  binLinkPath,
  isAtriumCommandLink,
  LAUNCHER_MARK,
  linkIfFree,
  linkSettled,
} from "../machine-links.js";
import { atriumCommand } from "../programs.js";
import { launcherPath } from "../systemd-unit.js";

export function launcherComponent(ctx: LocalContext): Component {
  const [node, script] = atriumCommand();
  const path = launcherPath(ctx.placement);
  const link = binLinkPath();
  const text = `#!/bin/sh\n${LAUNCHER_MARK}\nexec '${node}' '${script}' "$@"\n`;
  return {
    name: "launcher",
    title: `the atrium command at ${path}, on PATH as ${link}`,
    spec: { path, node, script, link },
    present: () =>
      existsSync(path) && linkSettled(link, path, (current) => isAtriumCommandLink(current, link)),
    async apply(_previous, progress) {
      writeFileAtomic(path, text, 0o755);
      const outcome = linkIfFree(link, path, (current) => isAtriumCommandLink(current, link));
      if (outcome === "taken") {
        progress.important(`${link} is not Atrium's; left it alone (run ${path} instead)`);
        return { note: `${link} left alone` };
      }
      return { note: `${link} -> ${path}` };
    },
  };
}
