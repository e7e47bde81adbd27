/**
 * The environment service's behaviour behind the REST API: submitting specs,
 * building them through the queue, switching the current build, deleting, and
 * publishing what is usable as kernels and Dask worker environments.
 *
 * Must stay true: every operation checks the caller against the namespace first
 * (permissions.ts), and a build id the caller may not see is answered exactly like
 * one that does not exist; `current` switches only to a completed build whose files
 * are there, and a failed build never touches it.
 */
import { execFile } from "node:child_process";
import {
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import type {
  ApiBuild,
  ApiEnvironment,
  ApiNamespace,
  BuildStatus,
  NamespaceKind,
} from "../../contracts/envs-api.js";
import { removeLeftoverCgroups } from "./build-cgroup.js";
import {
  type BuildAccount,
  BuildFailure,
  buildEnvironment,
  compileBytecode,
  stopMessage,
} from "./builder.js";
import type { EnvsConfig } from "./config.js";
import { daskEnvironmentName, kernelName, type PublishedEnv, publish } from "./integration.js";
import { ensureReadableBy, Layout, namespaceReaders, switchLink } from "./layout.js";
import {
  type Directory,
  mayEdit,
  mayView,
  namespaceKind,
  type Person,
  primaryNamespace,
  usersOf,
  visibleNamespaces,
} from "./permissions.js";
import { BuildQueue } from "./queue.js";
import { parseSpecification, pythonProblem, SpecError, sha256, withPlatformPackages } from "./spec.js";
import { type EnvStore, isActive, type StoredBuild, type StoredEnvironment } from "./store.js";

const exec = promisify(execFile);

export const NAME_RE = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** An answer other than success: the status code and a message for the caller. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "ApiFailure";
  }
}

export interface SubmitRequest {
  namespace?: string | undefined;
  name?: string | undefined;
  specification: string;
  description?: string | undefined;
  /** Only build when the spec differs from the newest build's (deploy uses this). */
  ifChanged?: boolean | undefined;
  managedBy?: string | undefined;
}

export interface Machine {
  pythonVersion: string;
  uv: string;
  account: BuildAccount | undefined;
  /** dask and distributed of the default user env, which every build follows. */
  platformPins(): Record<string, string>;
}

export interface Directories {
  current: Directory;
}

export class EnvService {
  readonly layout: Layout;
  readonly queue: BuildQueue;

  constructor(
    private readonly cfg: EnvsConfig,
    readonly store: EnvStore,
    private readonly directory: Directories,
    private readonly machine: Machine,
    private readonly log: (line: string) => void,
  ) {
    this.layout = new Layout(cfg.envsDir);
    this.queue = new BuildQueue(cfg.builds.concurrency, cfg.builds.timeoutSeconds * 1000, (id, err) =>
      this.log(`build ${id}: unexpected error: ${(err as Error).stack ?? String(err)}`),
    );
  }

  get pythonVersion(): string {
    return this.machine.pythonVersion;
  }

  private get dir(): Directory {
    return this.directory.current;
  }

  // --- checks ------------------------------------------------------------------------

  private kindOf(ns: string): NamespaceKind | undefined {
    return namespaceKind(ns, this.dir);
  }

  private editors(ns: string) {
    return this.store.editors(ns, this.cfg.groupEditors);
  }

  /** The namespace's kind when the person may see it; else 404 (admins) or 403. */
  private viewable(person: Person, ns: string): NamespaceKind {
    const kind = this.kindOf(ns);
    if (kind && mayView(person, ns, kind, this.dir)) return kind;
    if (!kind && person.admin) throw new ApiFailure(404, `no namespace "${ns}"`);
    throw new ApiFailure(403, `namespace "${ns}" is not yours to see`);
  }

  private editable(person: Person, ns: string): NamespaceKind {
    const kind = this.viewable(person, ns);
    if (!mayEdit(person, ns, kind, this.dir, this.editors(ns))) {
      const who =
        kind === "global"
          ? "only admins may change global environments"
          : kind === "group"
            ? `only ${this.editors(ns) === "admins" ? "admins" : "members of the group"} may change its environments`
            : "only its owner may change it";
      throw new ApiFailure(403, `you may not change namespace "${ns}": ${who}`);
    }
    return kind;
  }

  private envOf(person: Person, ns: string, name: string): StoredEnvironment {
    this.viewable(person, ns);
    const env = this.store.environment(ns, name);
    if (!env) throw new ApiFailure(404, `no environment "${name}" in namespace "${ns}"`);
    return env;
  }

  /** A build the person may see; anything else is "no such build", whoever owns it. */
  private buildOf(person: Person, id: number): { build: StoredBuild; env: StoredEnvironment } {
    const build = this.store.build(id);
    const env = build ? this.store.environmentById(build.environmentId) : undefined;
    const kind = env ? this.kindOf(env.namespace) : undefined;
    if (!build || !env || !kind || !mayView(person, env.namespace, kind, this.dir)) {
      throw new ApiFailure(404, `no build ${id}`);
    }
    return { build, env };
  }

  // --- views ---------------------------------------------------------------------------

  namespaces(person: Person): ApiNamespace[] {
    return visibleNamespaces(person, this.dir).map((ns) => this.apiNamespace(person, ns));
  }

  namespace(person: Person, ns: string): ApiNamespace {
    this.viewable(person, ns);
    return this.apiNamespace(person, ns);
  }

  private apiNamespace(person: Person, ns: string): ApiNamespace {
    const kind = this.kindOf(ns) ?? "user";
    return {
      name: ns,
      kind,
      editors: kind === "group" ? this.editors(ns) : null,
      can_edit: mayEdit(person, ns, kind, this.dir, this.editors(ns)),
    };
  }

  environments(
    person: Person,
    filter: { namespace?: string; name?: string; search?: string } = {},
  ): ApiEnvironment[] {
    const visible = new Set(visibleNamespaces(person, this.dir));
    return this.store.data.environments
      .filter((e) => visible.has(e.namespace))
      .filter((e) => !filter.namespace || e.namespace === filter.namespace)
      .filter((e) => !filter.name || e.name === filter.name)
      .filter((e) => !filter.search || `${e.namespace}/${e.name}`.includes(filter.search))
      .sort((a, b) => (`${a.namespace}/${a.name}` < `${b.namespace}/${b.name}` ? -1 : 1))
      .map((e) => this.apiEnvironment(e));
  }

  environment(person: Person, ns: string, name: string): ApiEnvironment {
    return this.apiEnvironment(this.envOf(person, ns, name));
  }

  builds(
    person: Person,
    filter: { namespace?: string; name?: string; status?: string; environment_id?: number } = {},
  ) {
    const visible = new Set(visibleNamespaces(person, this.dir));
    return this.store.data.builds
      .map((b) => ({ b, e: this.store.environmentById(b.environmentId) }))
      .filter(
        (x): x is { b: StoredBuild; e: StoredEnvironment } => x.e !== undefined && visible.has(x.e.namespace),
      )
      .filter(({ e }) => !filter.namespace || e.namespace === filter.namespace)
      .filter(({ e }) => !filter.name || e.name === filter.name)
      .filter(({ b }) => !filter.status || b.status === filter.status)
      .filter(({ b }) => filter.environment_id === undefined || b.environmentId === filter.environment_id)
      .sort((x, y) => x.b.id - y.b.id)
      .map(({ b, e }) => this.apiBuild(b, e));
  }

  build(person: Person, id: number): ApiBuild {
    const { build, env } = this.buildOf(person, id);
    return this.apiBuild(build, env);
  }

  /** The build log from byte `offset` on (all of it by default). */
  buildLog(person: Person, id: number, offset = 0): { text: string; size: number; status: BuildStatus } {
    const { build, env } = this.buildOf(person, id);
    let data: Buffer = Buffer.alloc(0);
    try {
      data = readFileSync(this.layout.file(env.namespace, env.name, build.id, "build.log"));
    } catch {
      // not started yet
    }
    const from = Math.min(Math.max(0, offset), data.length);
    return { text: data.subarray(from).toString("utf8"), size: data.length, status: build.status };
  }

  lockfile(person: Person, id: number): string {
    const { build, env } = this.buildOf(person, id);
    try {
      return readFileSync(this.layout.file(env.namespace, env.name, build.id, "lock.txt"), "utf8");
    } catch {
      throw new ApiFailure(404, `build ${id} has no lockfile (${build.status.toLowerCase()})`);
    }
  }

  currentLockfile(person: Person, ns: string, name: string): string {
    const env = this.envOf(person, ns, name);
    if (env.currentBuildId === null) throw new ApiFailure(404, `${ns}/${name} has no successful build yet`);
    return this.lockfile(person, env.currentBuildId);
  }

  private apiEnvironment(e: StoredEnvironment): ApiEnvironment {
    const current = e.currentBuildId === null ? undefined : this.store.build(e.currentBuildId);
    const latest = this.store.latestBuild(e.id);
    return {
      id: e.id,
      namespace: { name: e.namespace, kind: this.kindOf(e.namespace) ?? "user" },
      name: e.name,
      description: e.description,
      current_build_id: e.currentBuildId,
      current_build: current ? this.apiBuild(current, e) : null,
      latest_build: latest ? this.apiBuild(latest, e) : null,
      kernel: kernelName(e.namespace, e.name),
      dask_environment: daskEnvironmentName(e.namespace, e.name),
      prefix: this.layout.current(e.namespace, e.name),
    };
  }

  private apiBuild(b: StoredBuild, e: StoredEnvironment): ApiBuild {
    const position = this.queue.position(b.id);
    return {
      id: b.id,
      environment_id: e.id,
      namespace: e.namespace,
      environment: e.name,
      status: b.status,
      status_info: b.status === "QUEUED" && position ? `waiting: ${position} in the queue` : b.statusInfo,
      specification: {
        name: b.spec.name,
        spec: b.spec.text,
        format: b.spec.format,
        sha256: b.spec.sha256,
        requirements: b.spec.requirements,
        constraints: b.spec.constraints,
        notes: b.spec.notes,
      },
      scheduled_on: b.scheduledOn,
      started_on: b.startedOn,
      ended_on: b.endedOn,
      size: b.size,
      packages: b.packages,
      created_by: b.createdBy,
      current: e.currentBuildId === b.id,
    };
  }

  // --- changes -------------------------------------------------------------------------

  /** Submit a spec: creates the environment when new and queues a build. */
  submit(person: Person, req: SubmitRequest): { build: ApiBuild; unchanged: boolean } {
    const ns = req.namespace ?? primaryNamespace(person);
    this.editable(person, ns);
    let parsed: ReturnType<typeof parseSpecification>;
    try {
      parsed = parseSpecification(req.specification);
    } catch (err) {
      if (err instanceof SpecError)
        throw new ApiFailure(400, `the specification has problems: ${err.message}`);
      throw err;
    }
    const name = req.name ?? parsed.name;
    if (!name) throw new ApiFailure(400, "name the environment (environment_name, or name: in the spec)");
    if (!NAME_RE.test(name) || name.length > 63) {
      throw new ApiFailure(
        400,
        `"${name}" is not an environment name: use lower case letters, digits and -, starting and ending with a letter or digit`,
      );
    }
    const python = pythonProblem(parsed, this.machine.pythonVersion, this.cfg.python);
    if (python) throw new ApiFailure(400, python);
    const digest = sha256(req.specification);
    let env = this.store.environment(ns, name);
    if (env && req.ifChanged) {
      const latest = this.store.latestBuild(env.id);
      const same = latest?.spec.sha256 === digest;
      if (latest && same && (isActive(latest) || latest.id === env.currentBuildId)) {
        return { build: this.apiBuild(latest, env), unchanged: true };
      }
    }
    if (!env) env = this.store.createEnvironment(ns, name, req.description ?? "", req.managedBy ?? null);
    else if (req.description !== undefined || req.managedBy !== undefined) {
      this.store.updateEnvironment(env.id, {
        ...(req.description !== undefined ? { description: req.description } : {}),
        ...(req.managedBy !== undefined ? { managedBy: req.managedBy } : {}),
      });
    }
    const full = withPlatformPackages(parsed.requirements, this.machine.platformPins());
    const build = this.store.addBuild(
      env.id,
      {
        name,
        text: req.specification,
        format: parsed.format,
        sha256: digest,
        requirements: full.requirements,
        constraints: full.constraints,
        notes: parsed.notes,
      },
      person.name,
    );
    this.log(`build ${build.id} of ${ns}/${name} queued by ${person.name}`);
    this.enqueue(build.id);
    return { build: this.apiBuild(build, env), unchanged: false };
  }

  /** Build a build's spec again, as a new build. */
  rebuild(person: Person, id: number): ApiBuild {
    const { build, env } = this.buildOf(person, id);
    this.editable(person, env.namespace);
    const next = this.store.addBuild(env.id, build.spec, person.name);
    this.enqueue(next.id);
    return this.apiBuild(next, env);
  }

  cancel(person: Person, id: number): ApiBuild {
    const { build, env } = this.buildOf(person, id);
    this.editable(person, env.namespace);
    if (!isActive(build)) throw new ApiFailure(409, `build ${id} is not queued or running`);
    if (build.status === "QUEUED") {
      this.queue.cancel(id);
      this.store.updateBuild(id, {
        status: "CANCELED",
        statusInfo: "canceled",
        endedOn: new Date().toISOString(),
      });
    } else {
      this.queue.cancel(id);
    }
    return this.apiBuild(build, env);
  }

  /** Make a completed build the environment's current one (rollback and roll forward). */
  async setCurrent(person: Person, ns: string, name: string, buildId: number): Promise<ApiEnvironment> {
    const env = this.envOf(person, ns, name);
    this.editable(person, ns);
    const build = this.store.build(buildId);
    if (!build || build.environmentId !== env.id)
      throw new ApiFailure(404, `${ns}/${name} has no build ${buildId}`);
    if (build.status !== "COMPLETED") {
      throw new ApiFailure(
        409,
        `build ${buildId} is ${build.status.toLowerCase()}; only a completed build can be current`,
      );
    }
    const target = this.layout.file(ns, name, buildId, "env");
    if (!existsSync(join(target, "bin", "python")))
      throw new ApiFailure(409, `build ${buildId}'s files are gone`);
    switchLink(this.layout.current(ns, name), relative(this.layout.envDir(ns, name), target));
    this.store.setCurrent(env.id, buildId);
    this.log(`${ns}/${name}: current is build ${buildId} (set by ${person.name})`);
    await this.publish();
    return this.apiEnvironment(env);
  }

  async describe(person: Person, ns: string, name: string, description: string): Promise<ApiEnvironment> {
    const env = this.envOf(person, ns, name);
    this.editable(person, ns);
    this.store.updateEnvironment(env.id, { description });
    return this.apiEnvironment(env);
  }

  async deleteEnvironment(person: Person, ns: string, name: string): Promise<void> {
    const env = this.envOf(person, ns, name);
    this.editable(person, ns);
    for (const b of this.store.buildsOf(env.id)) if (isActive(b)) this.queue.cancel(b.id);
    this.store.deleteEnvironment(env.id);
    rmSync(this.layout.envDir(ns, name), { recursive: true, force: true });
    this.log(`${ns}/${name} deleted by ${person.name}`);
    await this.publish();
  }

  deleteBuild(person: Person, id: number): void {
    const { build, env } = this.buildOf(person, id);
    this.editable(person, env.namespace);
    if (env.currentBuildId === id)
      throw new ApiFailure(409, `build ${id} is current; make another build current first`);
    if (isActive(build))
      throw new ApiFailure(409, `build ${id} is ${build.status.toLowerCase()}; cancel it first`);
    rmSync(this.layout.buildDir(env.namespace, env.name, id), { recursive: true, force: true });
    this.store.deleteBuild(id);
  }

  setEditors(person: Person, ns: string, editors: unknown): ApiNamespace {
    const kind = this.viewable(person, ns);
    if (!person.admin) throw new ApiFailure(403, "only admins may change who edits a namespace");
    if (kind !== "group") throw new ApiFailure(400, "only a group's namespace has a choice of editors");
    if (editors !== "members" && editors !== "admins")
      throw new ApiFailure(400, 'editors is "members" or "admins"');
    this.store.setEditors(ns, editors);
    return this.apiNamespace(person, ns);
  }

  // --- building ------------------------------------------------------------------------

  private enqueue(id: number): void {
    this.queue.enqueue(id, (signal) => this.runBuild(id, signal));
  }

  private async runBuild(id: number, signal: AbortSignal): Promise<void> {
    const queued = this.store.build(id);
    const env = queued ? this.store.environmentById(queued.environmentId) : undefined;
    if (!queued || !env || queued.status !== "QUEUED") return;
    const { namespace: ns, name } = env;
    const dir = this.layout.buildDir(ns, name, id);
    this.store.updateBuild(id, { status: "BUILDING", startedOn: new Date().toISOString() });
    let fd: number | undefined;
    const write = (text: string) => {
      if (fd !== undefined) writeSync(fd, text);
    };
    try {
      const kind = this.kindOf(ns);
      if (!kind) throw new BuildFailure(`namespace "${ns}" no longer exists`);
      const account = this.machine.account;
      if (!account)
        throw new BuildFailure(`the build account ${this.cfg.buildAccount} is missing; run atrium deploy`);
      await ensureReadableBy(this.layout.namespaceDir(ns), namespaceReaders(ns, kind, this.cfg.buildAccount));
      const cacheDir = namespaceCache(this.cfg.uv.cacheDir, ns, account);
      mkdirSync(join(this.layout.envDir(ns, name), "builds"), { recursive: true, mode: 0o755 });
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { mode: 0o755 });
      fd = openSync(join(dir, "build.log"), "a", 0o644);
      writeFileSync(join(dir, "spec.yaml"), queued.spec.text, { mode: 0o644 });
      write(`build ${id} of ${ns}/${name}, queued by ${queued.createdBy} at ${queued.scheduledOn}\n`);
      write(`python ${this.machine.pythonVersion} (${this.cfg.python}), uv ${this.machine.uv}\n`);
      for (const note of queued.spec.notes) write(`note: ${note}\n`);
      const out = await buildEnvironment({
        dir,
        requirements: queued.spec.requirements,
        constraints: queued.spec.constraints,
        uv: this.machine.uv,
        python: this.cfg.python,
        cacheDir,
        account,
        allowSource: this.cfg.builds.allowSource,
        ...(this.cfg.cgroup ? { cgroup: { ...this.cfg.cgroup, name: `build-${id}` } } : {}),
        passEnv: process.env,
        log: write,
        onProcessGroup: (pgid) => this.store.updateBuild(id, { pgid }),
        signal,
      });
      const newerDone = this.store
        .buildsOf(env.id)
        .some((b) => b.id > id && b.status === "COMPLETED" && b.id === env.currentBuildId);
      if (!newerDone) {
        switchLink(this.layout.current(ns, name), relative(this.layout.envDir(ns, name), join(dir, "env")));
        this.store.setCurrent(env.id, id);
        write(`build ${id} is now current\n`);
      }
      // Kernels first, so that a completed build is already offered when anyone sees it completed.
      await this.publish().catch((err: unknown) =>
        this.log(`publishing kernels failed: ${(err as Error).message}`),
      );
      this.store.updateBuild(id, {
        status: "COMPLETED",
        statusInfo: "compiling bytecode; the environment is usable already",
        endedOn: new Date().toISOString(),
        size: out.size,
        packages: out.packages,
        pgid: null,
      });
      this.log(`build ${id} of ${ns}/${name} completed`);
      // Still in the build's queue slot: the machine is not oversubscribed by compiles.
      await compileBytecode({
        dir,
        python: this.cfg.python,
        cacheDir,
        passEnv: process.env,
        log: write,
        signal,
      }).catch((err: unknown) => write(`bytecode not compiled: ${(err as Error).message}\n`));
      this.store.updateBuild(id, { statusInfo: null, pgid: null });
    } catch (err) {
      const message =
        err instanceof BuildFailure
          ? err.message
          : signal.aborted
            ? stopMessage(signal)
            : `internal error: ${(err as Error).message}`;
      if (this.store.environmentById(env.id)?.currentBuildId === id) {
        // It already became current: it is complete, whatever went wrong after.
        write(`\nafter the build: ${message}\n`);
        this.store.updateBuild(id, { status: "COMPLETED", statusInfo: null, pgid: null });
      } else {
        write(`\nBUILD FAILED: ${message}\n`);
        if (!(err instanceof BuildFailure) && !signal.aborted) write(`${(err as Error).stack ?? ""}\n`);
        this.store.updateBuild(id, {
          status: signal.reason === "canceled" ? "CANCELED" : "FAILED",
          statusInfo: message,
          endedOn: new Date().toISOString(),
          pgid: null,
        });
        rmSync(join(dir, "env"), { recursive: true, force: true });
        this.log(`build ${id} of ${ns}/${name} failed: ${message}`);
      }
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    this.prune(env.id);
    await this.publish().catch((err: unknown) =>
      this.log(`publishing kernels failed: ${(err as Error).message}`),
    );
  }

  private prune(environmentId: number): void {
    const env = this.store.environmentById(environmentId);
    if (!env) return;
    for (const b of this.store.prunable(environmentId, this.cfg.builds.keep)) {
      rmSync(this.layout.buildDir(env.namespace, env.name, b.id), { recursive: true, force: true });
      this.store.deleteBuild(b.id);
    }
  }

  /** Write kernels and the Dask list for what is usable now. */
  async publish(): Promise<void> {
    const envs: PublishedEnv[] = [];
    for (const e of this.store.data.environments) {
      const kind = this.kindOf(e.namespace);
      const prefix = this.layout.current(e.namespace, e.name);
      if (!kind || e.currentBuildId === null || !existsSync(join(prefix, "bin", "python"))) continue;
      envs.push({
        namespace: e.namespace,
        name: e.name,
        prefix,
        users: usersOf(e.namespace, kind, this.dir),
      });
    }
    const users = [...this.dir.users.keys()];
    await publish({
      kernelsDir: this.cfg.kernelsDir,
      daskFile: this.cfg.daskEnvironmentsFile,
      daskFileOwner: this.cfg.daskEnvironmentsOwner,
      envs,
      users,
    });
  }

  // --- lifecycle -----------------------------------------------------------------------

  /** After a (re)start: stop what a crash left building, fail it, queue the rest again. */
  async recover(): Promise<void> {
    const place = this.cfg.cgroup;
    const ended = await (place ? removeLeftoverCgroups(place) : Promise.resolve([])).catch((err: unknown) => {
      this.log(`ending what earlier builds left running failed: ${(err as Error).message}`);
      return [];
    });
    if (ended.length > 0) this.log(`ended the processes of ${ended.join(", ")} (left by an earlier run)`);
    for (const b of this.store.data.builds) {
      if (b.status === "BUILDING" && b.pgid && (await ownedBy(b.pgid, this.machine.account?.uid))) {
        try {
          process.kill(-b.pgid, "SIGKILL");
        } catch {
          // gone
        }
      }
    }
    for (const b of this.store.data.builds) {
      // stopped between becoming current and being marked complete: it is complete
      const env = this.store.environmentById(b.environmentId);
      if (b.status === "BUILDING" && env?.currentBuildId === b.id) {
        this.store.updateBuild(b.id, { status: "COMPLETED", statusInfo: null, pgid: null });
      }
    }
    for (const b of this.store.recover()) {
      const env = this.store.environmentById(b.environmentId);
      if (env)
        rmSync(this.layout.file(env.namespace, env.name, b.id, "env"), { recursive: true, force: true });
    }
    for (const b of this.store.data.builds.filter((x) => x.status === "QUEUED").sort((x, y) => x.id - y.id)) {
      this.enqueue(b.id);
    }
  }

  async stop(): Promise<void> {
    await this.queue.stopAll();
  }
}

/**
 * A namespace's own uv cache, `<root>/<namespace>`, made by root in the root-owned
 * cache folder and handed to the build account; no other namespace's build uses it.
 */
function namespaceCache(root: string, ns: string, account: BuildAccount): string {
  const dir = join(root, ns);
  mkdirSync(root, { recursive: true, mode: 0o755 });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chownSync(dir, account.uid, account.gid);
  return dir;
}

async function ownedBy(pid: number, uid: number | undefined): Promise<boolean> {
  if (uid === undefined) return false;
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]) === uid;
  } catch {
    return false;
  }
}

/** Versions of the packages every environment must match, read from the default env. */
export function readPlatformPins(defaultEnv: string): Record<string, string> {
  const pins: Record<string, string> = {};
  try {
    const lib = join(defaultEnv, "lib");
    for (const py of readdirSync(lib).filter((d) => d.startsWith("python"))) {
      for (const entry of readdirSync(join(lib, py, "site-packages"))) {
        const m = /^(dask|distributed)-([^-]+)\.dist-info$/.exec(entry);
        if (m?.[1] && m[2]) pins[m[1]] = m[2];
      }
    }
  } catch {
    // no default env yet: nothing to follow
  }
  return pins;
}

export async function lookupAccount(name: string): Promise<BuildAccount | undefined> {
  try {
    const { stdout } = await exec("getent", ["passwd", name]);
    const [, , uid, gid] = stdout.trim().split(":");
    return { name, uid: Number(uid), gid: Number(gid) };
  } catch {
    return undefined;
  }
}
