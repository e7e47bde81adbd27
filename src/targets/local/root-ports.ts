/**
 * The root services' loopback ports. A port below the kernel's first unprivileged
 * port (net.ipv4.ip_unprivileged_port_start, 1024 unless changed) can be taken by
 * root only; any other port can be taken by any local user in the moment its
 * service restarts, and whoever holds the hub's or the proxy's port is handed the
 * users' requests, cookies and the proxy's token.
 */
import { readFileSync } from "node:fs";
import type { Platform } from "../../model/platform.js";
import type { LocalPlacement } from "./placement.js";

const UNPRIVILEGED_START = "/proc/sys/net/ipv4/ip_unprivileged_port_start";

/** The first port any user may listen on, as this machine's kernel says (1024 when unreadable). */
export function firstUnprivilegedPort(file = UNPRIVILEGED_START): number {
  try {
    const n = Number.parseInt(readFileSync(file, "utf8"), 10);
    return Number.isInteger(n) && n >= 0 ? n : 1024;
  } catch {
    return 1024;
  }
}

/** Ports only root services listen on; the dashboards' block is the schedulers' (guarded by nftables instead). */
export function rootServicePorts(platform: Platform, placement: LocalPlacement): Array<[string, number]> {
  return Object.entries(placement.network.ports)
    .filter(([key]) => key !== "dask_dashboards" && (platform.dask.enabled || !key.startsWith("dask_")))
    .map(([key, port]) => [`target.ports.${key}`, port]);
}

/** One warning per root service port another local user could listen on. */
export function claimablePortWarnings(
  platform: Platform,
  placement: LocalPlacement,
  firstUnprivileged = firstUnprivilegedPort(),
): string[] {
  return rootServicePorts(platform, placement)
    .filter(([, port]) => port >= firstUnprivileged)
    .map(
      ([key, port]) =>
        `${key} is ${port}: any local user may listen on it while its service restarts; use a port below ${firstUnprivileged}`,
    );
}
