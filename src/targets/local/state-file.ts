/**
 * The local target's state store, a file: for each component, the hash of the spec
 * last applied. Written atomically (temp file + rename + fsync) after every
 * component, so a deploy killed at any point leaves a state that is true of the machine.
 */
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { AtriumError } from "../../errors.js";
import { pidAlive } from "../../lib/process.js";
import type { DeployState, StateStore } from "../target.js";

export function statePath(stateDir: string): string {
  return join(stateDir, "state.json");
}

export function loadState(stateDir: string, project: string): DeployState {
  const file = statePath(stateDir);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return { version: 1, project, components: {} };
  }
  let state: DeployState;
  try {
    state = JSON.parse(text) as DeployState;
  } catch {
    throw new AtriumError(
      "apply-failed",
      `${file} is not valid JSON`,
      "move it aside; the next deploy re-applies every component (all are idempotent)",
    );
  }
  if (state.project !== project) {
    throw new AtriumError(
      "apply-failed",
      `${file} belongs to project "${state.project}", not "${project}"`,
      "give each platform its own target.state_dir",
    );
  }
  return state;
}

const TEMP_PREFIX = "state.json.tmp-";

/**
 * Removes the temp files of saves that never reached their rename (a deploy killed
 * mid-save): those of processes no longer running, or all of them (`all`, for a purge
 * under the lock, when no other save can be under way).
 */
export function removeStateTemps(stateDir: string, all = false): void {
  let names: string[];
  try {
    names = readdirSync(stateDir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(TEMP_PREFIX)) continue;
    const pid = Number(name.slice(TEMP_PREFIX.length));
    if (all || !Number.isInteger(pid) || !pidAlive(pid)) rmSync(join(stateDir, name), { force: true });
  }
}

export function saveState(stateDir: string, state: DeployState): void {
  const file = statePath(stateDir);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  removeStateTemps(stateDir);
  const tmp = join(stateDir, `${TEMP_PREFIX}${process.pid}`);
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, `${JSON.stringify(state, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

export function stateFileStore(stateDir: string, project: string): StateStore {
  return {
    location: statePath(stateDir),
    load: async () => loadState(stateDir, project),
    save: async (state) => saveState(stateDir, state),
  };
}
