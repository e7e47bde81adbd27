/**
 * The environment service's state: namespaces' settings, environments and builds,
 * in one JSON file in a root-only folder. The service is its only writer.
 *
 * Must stay true: every change is saved before it is acted on, atomically (written
 * to a temporary file, synced, then renamed over the old one), so a crash leaves
 * either the old or the new state and never half a file; ids are never reused.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import type { BuildStatus } from "../../contracts/envs-api.js";
import type { GroupEditors } from "./config.js";

export interface StoredSpec {
  name: string;
  text: string;
  format: "environment.yaml" | "requirements";
  sha256: string;
  requirements: string[];
  constraints: string[];
  notes: string[];
}

export interface StoredBuild {
  id: number;
  environmentId: number;
  status: BuildStatus;
  statusInfo: string | null;
  spec: StoredSpec;
  scheduledOn: string;
  startedOn: string | null;
  endedOn: string | null;
  size: number | null;
  packages: string[];
  createdBy: string;
  /** Process group of the running build's current step, to stop it after a crash. */
  pgid: number | null;
}

export interface StoredEnvironment {
  id: number;
  namespace: string;
  name: string;
  description: string;
  currentBuildId: number | null;
  createdOn: string;
  /** "deploy" for environments declared in atrium.yaml. */
  managedBy: string | null;
}

export interface StoreData {
  version: 1;
  nextEnvironmentId: number;
  nextBuildId: number;
  namespaces: Record<string, { editors: GroupEditors }>;
  environments: StoredEnvironment[];
  builds: StoredBuild[];
}

const ACTIVE: ReadonlySet<BuildStatus> = new Set(["QUEUED", "BUILDING"]);

export function isActive(b: StoredBuild): boolean {
  return ACTIVE.has(b.status);
}

export function emptyStore(): StoreData {
  return { version: 1, nextEnvironmentId: 1, nextBuildId: 1, namespaces: {}, environments: [], builds: [] };
}

export class EnvStore {
  data: StoreData;

  constructor(
    private readonly file: string | null,
    data?: StoreData,
  ) {
    this.data = data ?? (file ? EnvStore.read(file) : emptyStore());
  }

  static read(file: string): StoreData {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return emptyStore();
      throw err;
    }
    const data = JSON.parse(text) as StoreData;
    if (data.version !== 1) throw new Error(`${file}: unknown store version ${String(data.version)}`);
    return data;
  }

  save(): void {
    if (!this.file) return;
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.tmp-${process.pid}`;
    const fd = openSync(tmp, "w", 0o600);
    try {
      writeSync(fd, `${JSON.stringify(this.data, null, 1)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
  }

  // --- reading -----------------------------------------------------------------

  environment(ns: string, name: string): StoredEnvironment | undefined {
    return this.data.environments.find((e) => e.namespace === ns && e.name === name);
  }

  environmentById(id: number): StoredEnvironment | undefined {
    return this.data.environments.find((e) => e.id === id);
  }

  build(id: number): StoredBuild | undefined {
    return this.data.builds.find((b) => b.id === id);
  }

  /** An environment's builds, oldest first. */
  buildsOf(environmentId: number): StoredBuild[] {
    return this.data.builds.filter((b) => b.environmentId === environmentId).sort((a, b) => a.id - b.id);
  }

  latestBuild(environmentId: number): StoredBuild | undefined {
    return this.buildsOf(environmentId).at(-1);
  }

  editors(ns: string, fallback: GroupEditors): GroupEditors {
    return this.data.namespaces[ns]?.editors ?? fallback;
  }

  // --- changing (each saves) ---------------------------------------------------------

  setEditors(ns: string, editors: GroupEditors): void {
    this.data.namespaces[ns] = { editors };
    this.save();
  }

  createEnvironment(
    ns: string,
    name: string,
    description: string,
    managedBy: string | null,
  ): StoredEnvironment {
    const env: StoredEnvironment = {
      id: this.data.nextEnvironmentId++,
      namespace: ns,
      name,
      description,
      currentBuildId: null,
      createdOn: new Date().toISOString(),
      managedBy,
    };
    this.data.environments.push(env);
    this.save();
    return env;
  }

  updateEnvironment(id: number, patch: Partial<Pick<StoredEnvironment, "description" | "managedBy">>): void {
    const env = this.environmentById(id);
    if (env) Object.assign(env, patch);
    this.save();
  }

  addBuild(environmentId: number, spec: StoredSpec, createdBy: string): StoredBuild {
    const build: StoredBuild = {
      id: this.data.nextBuildId++,
      environmentId,
      status: "QUEUED",
      statusInfo: null,
      spec,
      scheduledOn: new Date().toISOString(),
      startedOn: null,
      endedOn: null,
      size: null,
      packages: [],
      createdBy,
      pgid: null,
    };
    this.data.builds.push(build);
    this.save();
    return build;
  }

  updateBuild(id: number, patch: Partial<Omit<StoredBuild, "id" | "environmentId" | "spec">>): StoredBuild {
    const build = this.build(id);
    if (!build) throw new Error(`no build ${id}`);
    Object.assign(build, patch);
    this.save();
    return build;
  }

  setCurrent(environmentId: number, buildId: number | null): void {
    const env = this.environmentById(environmentId);
    if (env) env.currentBuildId = buildId;
    this.save();
  }

  deleteBuild(id: number): void {
    this.data.builds = this.data.builds.filter((b) => b.id !== id);
    this.save();
  }

  deleteEnvironment(id: number): void {
    this.data.environments = this.data.environments.filter((e) => e.id !== id);
    this.data.builds = this.data.builds.filter((b) => b.environmentId !== id);
    this.save();
  }

  /**
   * After a restart: builds that were running are failed (their process is gone or
   * stopped by the caller); queued ones stay queued. Returns the failed ones.
   */
  recover(now = new Date().toISOString()): StoredBuild[] {
    for (const b of this.data.builds) {
      // stopped while compiling bytecode: usable, just slower to import until rebuilt
      if (b.status === "COMPLETED" && b.statusInfo !== null) b.statusInfo = null;
    }
    const interrupted = this.data.builds.filter((b) => b.status === "BUILDING");
    for (const b of interrupted) {
      b.status = "FAILED";
      b.statusInfo = "interrupted: the environment service stopped during the build; build again";
      b.endedOn = now;
      b.pgid = null;
    }
    this.save();
    return interrupted;
  }

  /**
   * Finished builds of an environment beyond the newest `keep`, never the current
   * one: the ones to delete for space.
   */
  prunable(environmentId: number, keep: number): StoredBuild[] {
    const env = this.environmentById(environmentId);
    const done = this.buildsOf(environmentId).filter((b) => !isActive(b));
    const keepIds = new Set(done.slice(-keep).map((b) => b.id));
    if (env?.currentBuildId != null) keepIds.add(env.currentBuildId);
    return done.filter((b) => !keepIds.has(b.id));
  }
}
