/** On a systemd host, one unit runs Atrium's supervisor, which runs everything else. */
import { posix } from "node:path";
import type { Platform } from "../../model/platform.js";
import type { LocalPlacement } from "./placement.js";

export function unitName(platform: Platform): string {
  return `atrium-${platform.project.name}.service`;
}

/** The launcher deploy writes: a stable path that runs this installation of Atrium. */
export function launcherPath(placement: LocalPlacement): string {
  return posix.join(placement.paths.prefix, "bin", "atrium");
}

export function renderSystemdUnit(platform: Platform, placement: LocalPlacement): string {
  return `[Unit]
Description=Atrium platform ${platform.project.name} (proxy, hub and services)
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
ExecStart=${launcherPath(placement)} supervise --spec ${posix.join(placement.paths.runDir, "supervisor.json")}
Restart=always
RestartSec=2
# User servers live in their own cgroups and must survive a restart of this unit.
KillMode=process
Delegate=yes

[Install]
WantedBy=multi-user.target
`;
}
