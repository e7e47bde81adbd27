/**
 * Only root may connect to dask-gateway's own web proxy. That proxy serves the
 * gateway's API and every cluster's dashboard with no login of its own; the
 * dashboard guard (a root process) is what checks who may see what. Without this
 * rule any local user could ask the proxy's loopback port for any dashboard.
 * The same holds for the schedulers' own dashboards, which listen in a block of
 * ports (target.ports.dask_dashboards) that a second rule keeps for root; workers
 * run without a dashboard (python/atrium_hub/dask_dashboards.py).
 *
 * The rule is kernel-enforced: an nftables table of the project's own, with one
 * output-hook rule that resets TCP connections over loopback to that port from any
 * socket not owned by uid 0. Deploy writes the whole table in one atomic `nft -f`
 * (so a re-apply replaces it, never doubles it); destroy deletes it. The gateway
 * loads the same file each time it starts (python/atrium_hub/dask_gateway.py) and
 * refuses to run without it, so a reboot, which forgets the rule, does not open it.
 */
import { spawnSync } from "node:child_process";
import { AtriumError } from "../../../errors.js";
import type { Platform } from "../../../model/platform.js";
import type { Component } from "../../component.js";
import type { LocalContext } from "../context.js";
import { dashboardPorts, firewallTable, GATEWAY_FIREWALL_FILE } from "../dask-gateway.js";
import { run } from "../exec.js";

async function nft(args: string[], input?: string): Promise<{ code: number; out: string }> {
  try {
    const r = await run("nft", args, { input, okCodes: [0, 1] });
    return { code: r.code, out: r.stdout + r.stderr };
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === "ENOENT" || /ENOENT/.test(String(err));
    if (!missing) throw err;
    throw new AtriumError(
      "prerequisite",
      "nft (nftables) is missing: Atrium needs it to keep dask-gateway's web proxy for root only",
      "apt-get install nftables (or run scripts/install-prereqs.sh)",
    );
  }
}

export function daskFirewallComponent(ctx: LocalContext): Component | undefined {
  const { platform, placement } = ctx;
  if (!platform.dask.enabled) return undefined;
  const script = ctx.artifacts.get(GATEWAY_FIREWALL_FILE);
  if (script === undefined) return undefined;
  return {
    name: "dask-firewall",
    title: "kernel rule: only root reaches dask-gateway's web proxy and the Dask dashboards",
    spec: { script },
    // Rules do not survive a reboot; a deploy puts a missing one back.
    present: () => {
      const r = spawnSync("nft", ["list", "table", "inet", firewallTable(platform)], { encoding: "utf8" });
      const [first, last] = dashboardPorts(placement);
      return (
        r.status === 0 &&
        r.stdout.includes(`dport ${placement.network.ports.dask_gateway_web} `) &&
        r.stdout.includes(`dport ${first}-${last} `)
      );
    },
    async apply() {
      const r = await nft(["-f", "-"], script);
      if (r.code !== 0)
        throw new AtriumError(
          "apply-failed",
          `nft could not add the rule for dask-gateway's web proxy: ${r.out.trim()}`,
          "deploy needs root with CAP_NET_ADMIN and nftables in the kernel (nf_tables)",
        );
      const [first, last] = dashboardPorts(placement);
      return { note: `ports ${placement.network.ports.dask_gateway_web} and ${first}-${last}: root only` };
    },
    async remove() {
      await removeDaskFirewall(platform);
    },
  };
}

/** Delete the project's table; nothing to do if it (or nft) is not there. */
export async function removeDaskFirewall(platform: Platform): Promise<void> {
  try {
    await run("nft", ["delete", "table", "inet", firewallTable(platform)], { okCodes: [0, 1] });
  } catch {
    // no nft on this machine: no table either
  }
}
