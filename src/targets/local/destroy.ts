/**
 * Taking a platform down. Plain destroy stops every process of the platform (user
 * servers through the hub, the supervisor and its services, then whatever is left:
 * kernels, terminals, Dask schedulers and workers, SSH sessions and what they left
 * running), the Dask firewall rule, and removes Atrium's config, unit and runtime
 * files, keeping homes, shared folders, environments, the hub database and secrets,
 * and the atrium command and the deployed file, so that `atrium destroy --purge` can
 * follow as written.
 *
 * --purge also stops every process of the accounts Atrium created and removes
 * everything Atrium made: the platform's cgroups, the dask-gateway database and
 * cluster folders, shared folders, the accounts (never any other), secrets, hub
 * data, environments, logs, the machine's links to the platform, the prefix and the
 * folders it made. Trees users can write below are removed without following links
 * (fsutil.ts removeTree).
 *
 * Must stay true: a purge killed at any point is finished by the next one. So what
 * tells a purge what to remove (the state's record of created accounts and folders,
 * the hub's record of login accounts) is removed only after what it names; the
 * dask-gateway database goes before the key it is encrypted with; and a purge that
 * leaves something it made says what, keeps the state and fails.
 */
import { existsSync, readdirSync, rmdirSync, rmSync } from "node:fs";
import { posix } from "node:path";
import { AtriumError } from "../../errors.js";
import { pidAlive } from "../../lib/process.js";
import type { Platform } from "../../model/platform.js";
import type { Progress } from "../component.js";
import type { DeployState } from "../target.js";
import { existingCgroups, removeCgroups } from "./cgroups.js";
import { createdAccounts, purgeAccounts, remainingAccounts } from "./components/accounts.js";
import { removeDaskFirewall } from "./components/dask-firewall.js";
import { readDirectoriesData } from "./components/directories.js";
import { liveSpecPath, supervisorPid } from "./components/services.js";
import { UNIT_DIR } from "./components/systemd.js";
import { hasSystemd } from "./context.js";
import { gatewayClustersDir, gatewayDataDir } from "./dask-gateway.js";
import { BUILD_ACCOUNT } from "./envs.js";
import { run } from "./exec.js";
import { removeTree } from "./fsutil.js";
import { probe } from "./health.js";
import { HubApi } from "./hub-api.js";
import { serverSocketsDir } from "./hub-config.js";
import { deployedCopyPath, forgetMachineLinks } from "./machine-links.js";
import { loginAccounts, purgeLoginAccounts } from "./oidc.js";
import type { LocalPlacement } from "./placement.js";
import {
  findPlatformProcesses,
  type ProcessScope,
  stopPlatformProcesses,
  uidsOf,
} from "./platform-processes.js";
import { loadState, removeStateTemps, saveState, statePath } from "./state-file.js";
import { unitName } from "./systemd-unit.js";
import { publicUrl } from "./urls.js";

async function stopUserServers(placement: LocalPlacement, progress: Progress): Promise<void> {
  if ((await probe(`${publicUrl(placement)}/hub/api`)) !== 200) return;
  try {
    const api = new HubApi(placement);
    for (const u of await api.users()) {
      if (Object.keys(u.servers ?? {}).length === 0) continue;
      await api.stopServer(u.name);
      progress.detail(`stopped ${u.name}'s server`);
    }
  } catch (err) {
    progress.detail(`could not stop user servers through the hub: ${(err as Error).message}`);
  }
}

async function stopSupervisor(
  platform: Platform,
  placement: LocalPlacement,
  progress: Progress,
): Promise<void> {
  if (hasSystemd()) {
    await run("systemctl", ["disable", "--now", unitName(platform)], { okCodes: [1, 5] });
    rmSync(posix.join(UNIT_DIR, unitName(platform)), { force: true });
    await run("systemctl", ["daemon-reload"], { okCodes: [1] });
  }
  const pid = supervisorPid(platform, placement);
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

/** Whose processes go: the platform's users' platform processes; with purge, all of the deleted accounts'. */
async function processScope(
  platform: Platform,
  placement: LocalPlacement,
  state: DeployState,
  purge: boolean,
): Promise<ProcessScope> {
  const created = createdAccounts(state.components.accounts).users;
  const deleted = purge ? [...created, ...loginAccounts(placement)] : [];
  return {
    // The build account is shared by the machine's platforms: only its builds for this one go.
    userUids: await uidsOf([
      ...platform.users.map((u) => u.name),
      ...created,
      ...loginAccounts(placement),
      BUILD_ACCOUNT,
    ]),
    allOfUids: await uidsOf(deleted),
  };
}

/** Folders made by Atrium that hold only what Atrium put there; removed whole by purge. */
function ownedTrees(platform: Platform, placement: LocalPlacement, state: DeployState): string[] {
  const { paths } = placement;
  const data = state.components.accounts?.data as { managedGroups?: string[] } | undefined;
  const groups = new Set([
    ...platform.groups.filter((g) => g.shared).map((g) => g.name),
    ...createdAccounts(state.components.accounts).groups,
    ...(data?.managedGroups ?? []),
  ]);
  return [
    gatewayDataDir(placement),
    gatewayClustersDir(placement),
    ...[...groups].map((g) => posix.join(paths.sharedDir, g)),
  ];
}

/** Removed whole after the accounts: they hold the secrets, the hub's records and the software. */
function dataTrees(placement: LocalPlacement): string[] {
  const { paths } = placement;
  return [
    paths.secretsDir,
    paths.hubDataDir,
    serverSocketsDir(placement),
    posix.join(paths.dataDir, "tls"),
    paths.envsDir,
    paths.logDir,
    paths.prefix,
  ];
}

/** `dir` is the state folder or holds it: it can only go after the state. */
function holdsState(placement: LocalPlacement, dir: string): boolean {
  const { stateDir } = placement.paths;
  return dir === stateDir || stateDir.startsWith(`${dir}/`);
}

/**
 * Folders Atrium made, deepest first: those the directories component recorded, and
 * the platform's own roots (the state folder is made by deploy before any component
 * runs, so it and its parents are never in the record). The home root is not the
 * platform's (it is /home by default) unless recorded. Each goes only when empty.
 */
function madeFolders(placement: LocalPlacement, state: DeployState): string[] {
  const { paths } = placement;
  const recorded = readDirectoriesData(state.components.directories).created;
  const roots = [paths.sharedDir, paths.dataDir, paths.stateDir];
  return [...new Set([...recorded, ...roots])].sort((a, b) => b.length - a.length);
}

function removeIfEmpty(dir: string): void {
  try {
    if (readdirSync(dir).length === 0) rmdirSync(dir);
  } catch {
    // not there or not empty
  }
}

function describeLeft(dir: string): string {
  try {
    const entries = readdirSync(dir);
    return `${dir} (${entries.length} entr${entries.length === 1 ? "y" : "ies"}: ${entries.slice(0, 5).join(", ")}${entries.length > 5 ? ", ..." : ""})`;
  } catch {
    return dir;
  }
}

/** What Atrium made that is still there: accounts, folders, cgroups, processes. */
async function whatRemains(
  platform: Platform,
  placement: LocalPlacement,
  state: DeployState,
  scope: ProcessScope,
): Promise<string[]> {
  const left = await remainingAccounts(state.components.accounts);
  for (const name of loginAccounts(placement)) left.push(`user ${name} (made at login)`);
  const folders = madeFolders(placement, state).filter((d) => !holdsState(placement, d));
  for (const p of [...ownedTrees(platform, placement, state), ...dataTrees(placement), ...folders]) {
    if (existsSync(p)) left.push(describeLeft(p));
  }
  for (const dir of existingCgroups(placement.cgroupParent)) left.push(`cgroup ${dir}`);
  for (const p of findPlatformProcesses(placement, scope)) left.push(`process ${p.pid} (${p.command})`);
  return [...new Set(left)];
}

async function purgeEverything(
  platform: Platform,
  placement: LocalPlacement,
  state: DeployState,
  scope: ProcessScope,
  progress: Progress,
): Promise<void> {
  const { paths } = placement;
  const cgroupsLeft = await removeCgroups(placement.cgroupParent);
  if (cgroupsLeft.length === 0) progress.detail(`cgroups ${placement.cgroupParent} removed`);
  // The gateway's database is encrypted with a secret: it goes first, never after the key.
  await removeTrees(ownedTrees(platform, placement, state), progress);
  await purgeLoginAccounts(placement, progress);
  await purgeAccounts(state.components.accounts, progress);
  await removeTrees(
    dataTrees(placement).filter((p) => p !== paths.prefix),
    progress,
  );
  // Late, so that a purge stopped before here is found again by a rerun without -c.
  for (const link of forgetMachineLinks(placement)) progress.detail(`removed ${link}`);
  await removeTrees([paths.prefix], progress);
  for (const d of madeFolders(placement, state)) removeIfEmpty(d);
  const left = await whatRemains(platform, placement, state, scope);
  if (left.length > 0) {
    throw new AtriumError(
      "apply-failed",
      `destroy --purge left what Atrium made:\n    ${left.join("\n    ")}`,
      "remove or stop what is named, then run `atrium destroy --purge --yes` again (the state is kept, so it finishes the job)",
    );
  }
  // Last: the record of what Atrium made, then the folders that held it.
  rmSync(statePath(paths.stateDir), { force: true });
  removeStateTemps(paths.stateDir, true);
  rmSync(deployedCopyPath(placement), { force: true });
  rmSync(posix.join(paths.stateDir, "deploy.lock"), { force: true });
  const stateFolders = madeFolders(placement, state).filter((d) => holdsState(placement, d));
  for (const d of stateFolders) removeIfEmpty(d);
  const stateLeft = stateFolders.filter((d) => existsSync(d));
  if (stateLeft.length > 0) {
    throw new AtriumError(
      "apply-failed",
      `destroy --purge left folders Atrium made, holding what it did not make:\n    ${stateLeft.map(describeLeft).join("\n    ")}`,
      "everything else Atrium made is gone; move what is named elsewhere and remove the folders",
    );
  }
  progress.detail("removed everything Atrium made");
}

export async function destroyLocal(
  platform: Platform,
  placement: LocalPlacement,
  purge: boolean,
  progress: Progress,
): Promise<void> {
  const { paths } = placement;
  const state = loadState(paths.stateDir, platform.project.name);
  const scope = await processScope(platform, placement, state, purge);
  await stopUserServers(placement, progress);
  await stopSupervisor(platform, placement, progress);
  const stopped = await stopPlatformProcesses(platform, placement, scope);
  if (stopped > 0) progress.detail(`${stopped} more processes of the platform stopped`);
  await removeDaskFirewall(platform);
  await removeTrees([paths.etcDir, paths.runDir, liveSpecPath(placement)], progress);
  if (!purge) {
    // Remember which accounts and folders Atrium created, so a later `destroy --purge` removes them.
    const kept = Object.fromEntries(
      (["accounts", "directories"] as const).flatMap((c) =>
        state.components[c] ? [[c, state.components[c]]] : [],
      ),
    );
    if (Object.keys(kept).length > 0) saveState(paths.stateDir, { ...state, components: kept });
    else rmSync(statePath(paths.stateDir), { force: true });
    progress.detail("kept homes, shared folders, environments, the hub database and secrets");
    return;
  }
  await purgeEverything(platform, placement, state, scope, progress);
}
