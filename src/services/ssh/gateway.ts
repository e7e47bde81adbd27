/**
 * The SSH gateway: an ssh2 server on the platform's SSH port. Each connection
 * authenticates (auth.ts), then opens sessions (session.ts) and local forwards
 * (forward.ts) as that user. Anything else a client may ask for (remote forwards,
 * agent or X11 forwarding) is refused by not being offered. Each new connection
 * uses the config as the file says then (config-file.ts): users added by a deploy
 * can log in at once, and connections already open keep running.
 */
import { existsSync, readFileSync } from "node:fs";
import ssh2, { type Connection, type Server } from "ssh2";
import type { SshServiceConfig } from "../../contracts/ssh-service.js";
import { Admission, throttleFor } from "./admission.js";
import { type AuthOutcome, authenticate } from "./auth.js";
import type { ConfigSource } from "./config-file.js";
import { handleForward } from "./forward.js";
import { findPrivateShm, findSetpriv, shmSize } from "./launch.js";
import { SessionCgroups } from "./limits.js";
import { log } from "./log.js";
import { handleSession } from "./session.js";
import { StatusFile } from "./status.js";
import { type UserDirectory, userDirectory } from "./users.js";

export interface Gateway {
  server: Server;
  status: StatusFile;
  close(): Promise<void>;
}

/** What a connection works with, made once per version of the config. */
interface Settings {
  config: SshServiceConfig;
  users: UserDirectory;
  cgroups: SessionCgroups;
  sftpServer: string | undefined;
}

function settingsFor(config: SshServiceConfig): Settings {
  const sftpServer = config.sftp_server_candidates.find((p) => existsSync(p));
  if (!sftpServer) log(`no sftp-server found (${config.sftp_server_candidates.join(", ")}): SFTP is off`);
  const cgroups = new SessionCgroups(config.cgroup.v1_root, config.cgroup.parent);
  if (cgroups.off) log(`sessions run without limits: ${cgroups.off}`);
  return { config, users: userDirectory(config), cgroups, sftpServer };
}

export function startGateway(source: ConfigSource): Promise<Gateway> {
  // Where it listens and its host key are fixed for the process (a change restarts it).
  const first = source.current();
  const { listen } = first;
  const hostKey = readFileSync(first.host_key_file);
  const setpriv = findSetpriv();
  const status = new StatusFile(first.status_file);
  let settings = settingsFor(first);
  let limiter = throttleFor(first.auth);
  status.limits = settings.cgroups.off || "enforced (cgroup v1)";
  const now = (): Settings => {
    const config = source.current();
    if (config !== settings.config) {
      if (JSON.stringify(config.auth) !== JSON.stringify(settings.config.auth))
        limiter = throttleFor(config.auth);
      settings = settingsFor(config);
      status.limits = settings.cgroups.off || "enforced (cgroup v1)";
    }
    return settings;
  };
  const unshare = findPrivateShm();
  if (!unshare) log("sessions share the machine's /dev/shm: unshare cannot make a mount namespace here");
  const admission = new Admission(log);

  const server = new ssh2.Server({ hostKeys: [hostKey], ident: "Atrium" }, (client: Connection, info) => {
    const { config, users, cgroups, sftpServer } = now();
    const source = info.ip;
    const clientEnd = { address: info.ip, port: info.port };
    client.on("error", (err) => log(`connection from ${source}: ${err.message}`));
    const admitted = admission.admit(client, source, config.auth.login_timeout);
    if (!admitted) return;
    let authed: Extract<AuthOutcome, { ok: true }> | undefined;

    client.on("authentication", (ctx) => {
      authenticate(ctx, source, { users, hubApiUrl: config.hub_api_url, limiter, log }).then(
        (outcome) => {
          if (!outcome.ok) return;
          authed = outcome;
          ctx.accept();
        },
        (err: unknown) => {
          log(`authentication error for ${source}: ${(err as Error).message}`);
          try {
            ctx.reject();
          } catch {
            // the client went away
          }
        },
      );
    });
    client.on("ready", () => {
      admitted.settled();
      const who = authed;
      if (!who) {
        client.end();
        return;
      }
      const local = { address: listen.address, port: listen.port };
      // Whatever ssh2 reports about single channels, a closed connection has no open sessions.
      const open = new Set<() => void>();
      client.on("close", () => {
        for (const untrack of open) untrack();
      });
      const track = (kind: string) => {
        const untrack = status.track(who.user.name, source, kind);
        open.add(untrack);
        return () => {
          open.delete(untrack);
          untrack();
        };
      };
      client.on("session", (accept) => {
        const session = accept();
        handleSession(session, {
          account: { ...who.account, home: who.user.home, shell: who.user.shell },
          user: who.user,
          client: clientEnd,
          server: local,
          setpriv,
          sftpServer,
          pathPrepend: config.path_prepend,
          path: config.path,
          procsFiles: () => cgroups.procsFiles(who.user.name, who.user.limits, log),
          shm: unshare ? { unshare, size: shmSize(who.user.limits.mem_limit) } : undefined,
          track,
          log,
        });
      });
      client.on("tcpip", (accept, reject, info) => {
        void handleForward(accept, reject, info, {
          account: who.account,
          client: clientEnd,
          track,
          log,
        }).catch((err: unknown) => {
          log(`forward error: ${(err as Error).message}`);
          reject();
        });
      });
    });
  });

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port, listen.address, () => {
      server.off("error", reject);
      server.on("error", (err: Error) => log(`server error: ${err.message}`));
      status.setListening(listen.address, listen.port);
      log(
        `listening on ${listen.address}:${listen.port} for ${first.users.length} users${first.sign_on ? " and those who signed on" : ""}`,
      );
      resolve({
        server,
        status,
        close: () =>
          new Promise<void>((done) => {
            status.writeNow(true);
            server.close(() => done());
          }),
      });
    });
  });
}
