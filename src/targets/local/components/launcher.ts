/**
 * <prefix>/bin/atrium: a stable path that runs this installation of Atrium with this
 * Node.js, used by the systemd unit and by people on the machine.
 */
import { existsSync } from "node:fs";
import type { Component } from "../../../deploy/component.js";
import type { LocalContext } from "../context.js";
import { writeFileAtomic } from "../fsutil.js";
import { atriumCommand } from "../programs.js";
import { launcherPath } from "../systemd-unit.js";

export function launcherComponent(ctx: LocalContext): Component {
  const [node, script] = atriumCommand();
  const path = launcherPath(ctx.platform);
  const text = `#!/bin/sh\n# Runs Atrium as installed by the last deploy.\nexec '${node}' '${script}' "$@"\n`;
  return {
    name: "launcher",
    title: `the atrium command at ${path}`,
    spec: { path, node, script },
    present: () => existsSync(path),
    async apply() {
      writeFileAtomic(path, text, 0o755);
      return {};
    },
  };
}
