/**
 * `atrium service envs --config FILE`: managed environments (see service.ts), run
 * by the supervisor as root on 127.0.0.1 and reached as the hub service "envs".
 * Builds run as the build account; on SIGTERM running builds are stopped and marked
 * failed, and queued ones are built after the next start.
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { promisify } from "node:util";
import { HubLogin } from "../hub/login.js";
import { readEnvsConfig } from "./config.js";
import { HubDirectory } from "./directory.js";
import { setFolderAccess } from "./layout.js";
import { createEnvsServer } from "./server.js";
import { EnvService, lookupAccount, readPlatformPins } from "./service.js";
import { EnvStore } from "./store.js";

const exec = promisify(execFile);
const REFRESH_MS = 30_000;

export async function main(configFile: string): Promise<void> {
  // Builds inherit this: files in environments must not be writable by others.
  process.umask(0o022);
  const cfg = readEnvsConfig(configFile);
  setFolderAccess(cfg.folderAccess, cfg.buildAccount);
  const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  const token = readFileSync(cfg.apiTokenFile, "utf8").trim();
  const directory = new HubDirectory(cfg.hubApiUrl, token);
  const python = await exec(cfg.python, ["-c", "import platform; print(platform.python_version())"]);
  const account = await lookupAccount(cfg.buildAccount);
  // Only the uv deploy installed: one on PATH may be another version or out of the build account's reach.
  if (!existsSync(cfg.uv.tools))
    log(`warning: ${cfg.uv.tools} is missing; builds fail until a deploy installs uv`);
  if (!account) log(`warning: the build account ${cfg.buildAccount} does not exist; builds will fail`);
  const service = new EnvService(
    cfg,
    new EnvStore(cfg.stateFile),
    directory,
    {
      pythonVersion: python.stdout.trim(),
      uv: cfg.uv.tools,
      account,
      platformPins: () => readPlatformPins(cfg.defaultEnv),
    },
    log,
  );
  await service.recover();

  // The hub may start after this service: ask every few seconds until it answers,
  // then every REFRESH_MS; API calls wait for the first answer.
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  let loaded = false;
  const refresh = async () => {
    try {
      if ((await directory.refresh()) || !loaded) await service.publish();
      loaded = true;
      markReady();
    } catch (err) {
      log(`reading users and groups from the hub failed: ${(err as Error).message}`);
    }
  };
  const tick = async () => {
    await refresh();
    setTimeout(() => void tick(), loaded ? REFRESH_MS : 3_000).unref();
  };
  void tick();
  // Deploy asks for a refresh as soon as the hub runs with a new file.
  process.on("SIGUSR1", () => void refresh());

  const login = new HubLogin({
    prefix: cfg.prefix,
    hubApiUrl: cfg.hubApiUrl,
    hubPrefix: cfg.hubPrefix,
    clientId: cfg.clientId,
    clientSecret: token,
    cookieName: "atrium-envs-session",
    log,
  });
  const server = createEnvsServer({
    prefix: cfg.prefix,
    hubPrefix: cfg.hubPrefix,
    service,
    login,
    ready: () => ready,
    async lookupUser(name) {
      if (!directory.current.users.has(name)) await refresh();
      return directory.current.users.get(name);
    },
    log,
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(cfg.listen.port, cfg.listen.host, resolve);
  });
  log(`environments on ${cfg.listen.host}:${cfg.listen.port}${cfg.prefix}/, built with ${cfg.uv.tools}`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    log("stopping: ending running builds");
    server.close();
    await service.stop();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop());
  process.on("SIGINT", () => void stop());
  await new Promise<never>(() => {});
}
