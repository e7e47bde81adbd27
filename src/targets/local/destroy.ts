/**
 * Taking a platform down. Plain destroy stops every process (user servers first,
 * through the hub) and removes Atrium's config, unit and runtime files, keeping homes,
 * shared folders, environments, the hub database and secrets, and the atrium command
 * and the deployed file, so that `atrium destroy --purge` can follow as written.
 * --purge also removes those and the accounts Atrium created, never any other.
 */
import { existsSync, readdirSync, rmdirSync, rmSync } from "node:fs";
import { posix } from "node:path";
import type { Progress } from "../../deploy/component.js";
import { pidAlive } from "../../deploy/lock.js";
import { loadState, saveState, statePath } from "../../deploy/state.js";
import type { Platform } from "../../model/platform.js";
import { purgeAccounts } from "./components/accounts.js";
import { removeDaskFirewall } from "./components/dask-firewall.js";
import { liveSpecPath, supervisorPid } from "./components/services.js";
import { UNIT_DIR } from "./components/systemd.js";
import { hasSystemd } from "./context.js";
import { run } from "./exec.js";
import { removeTree } from "./fsutil.js";
import { probe } from "./health.js";
import { HubApi } from "./hub-api.js";
import { publicUrl } from "./hub-config.js";
import { forgetMachineLinks } from "./machine-links.js";
import { purgeLoginAccounts } from "./oidc.js";
import { unitName } from "./systemd-unit.js";

async function stopUserServers(platform: Platform, progress: Progress): Promise<void> {
  if ((await probe(`${publicUrl(platform)}/hub/api`)) !== 200) return;
  try {
    const api = new HubApi(platform);
    for (const u of await api.users()) {
      if (Object.keys(u.servers ?? {}).length === 0) continue;
      await api.stopServer(u.name);
      progress.detail(`stopped ${u.name}'s server`);
    }
  } catch (err) {
    progress.detail(`could not stop user servers through the hub: ${(err as Error).message}`);
  }
}

async function stopSupervisor(platform: Platform, progress: Progress): Promise<void> {
  if (hasSystemd()) {
    await run("systemctl", ["disable", "--now", unitName(platform)], { okCodes: [1, 5] });
    rmSync(posix.join(UNIT_DIR, unitName(platform)), { force: true });
    await run("systemctl", ["daemon-reload"], { okCodes: [1] });
  }
  const pid = supervisorPid(platform);
  if (pid === undefined) return;
  process.kill(pid, "SIGTERM");
  const until = Date.now() + 30_000;
  while (pidAlive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  if (pidAlive(pid)) process.kill(pid, "SIGKILL");
  progress.detail(`supervisor ${pid} stopped`);
}

/** Users can write below some of these (shared folders, caches, envs): see removeTree. */
async function removeTrees(paths: string[], progress: Progress): Promise<void> {
  for (const p of paths) {
    const problem = await removeTree(p);
    if (problem) progress.detail(`could not remove all of ${p}: ${problem}`);
  }
}

function removeIfEmpty(dir: string): void {
  try {
    if (readdirSync(dir).length === 0) rmdirSync(dir);
  } catch {
    // not there or not empty
  }
}

export async function destroyLocal(platform: Platform, purge: boolean, progress: Progress): Promise<void> {
  const { paths } = platform;
  const state = loadState(paths.stateDir, platform.project.name);
  await stopUserServers(platform, progress);
  await stopSupervisor(platform, progress);
  await removeDaskFirewall(platform);
  await removeTrees([paths.etcDir, paths.runDir, liveSpecPath(platform)], progress);
  if (!purge) {
    // Remember which accounts Atrium created, so a later `destroy --purge` can remove them.
    const accounts = state.components.accounts;
    if (accounts) saveState(paths.stateDir, { ...state, components: { accounts } });
    else rmSync(statePath(paths.stateDir), { force: true });
    progress.detail("kept homes, shared folders, environments, the hub database and secrets");
    return;
  }
  rmSync(statePath(paths.stateDir), { force: true });
  await purgeAccounts(state.components.accounts, progress);
  await purgeLoginAccounts(platform, progress);
  await removeTrees(
    [
      ...platform.groups.flatMap((g) => (g.sharedFolder ? [g.sharedFolder] : [])),
      paths.secretsDir,
      paths.hubDataDir,
      posix.join(paths.dataDir, "tls"),
      paths.envsDir,
      paths.logDir,
    ],
    progress,
  );
  // Last, so that a purge stopped before here is found again by a rerun without -c.
  for (const link of forgetMachineLinks(platform)) progress.detail(`removed ${link}`);
  await removeTrees([paths.prefix], progress);
  for (const d of [paths.sharedDir, paths.stateDir, paths.dataDir]) {
    rmSync(posix.join(d, "deploy.lock"), { force: true });
    removeIfEmpty(d);
  }
  progress.detail(existsSync(paths.prefix) ? "some files remain" : "removed everything Atrium made");
}
