/**
 * One SSH session channel: an interactive shell, an exec request or the SFTP
 * subsystem, run as the user (see launch.ts) and wired to the channel.
 *
 * Must stay true:
 * - bytes pass through untouched (no encoding), so scp, rsync and sftp work;
 * - stdout and stderr stay apart (without a PTY), and the exit status (or the
 *   signal) reaches the client after the last byte of output;
 * - with a PTY, the program runs on a real terminal of the client's size, and
 *   window changes reach it;
 * - a client that goes away hangs up its terminal; programs started without a
 *   terminal keep running, as with OpenSSH (VS Code's server relies on that).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { constants } from "node:os";
import type { Writable } from "node:stream";
import type { PseudoTtyInfo, ServerChannel, Session } from "ssh2";
import type { SshUser } from "../../contracts/ssh-service.js";
import type { Account } from "./accounts.js";
import { acceptedEnvName, type PrivateShm, sessionEnv, userCommand } from "./launch.js";
import { normalizeSize, ptyArgv, resizePty, signalPty, type WindowSize } from "./pty.js";

export interface SessionHost {
  account: Account;
  user: SshUser;
  client: { address: string; port: number };
  server: { address: string; port: number };
  setpriv: string;
  sftpServer: string | undefined;
  pathPrepend: string[];
  path: string;
  /** cgroup.procs files the session's processes join ([] without limits). */
  procsFiles(): string[];
  /** How the session gets its own /dev/shm; undefined where this machine cannot. */
  shm: PrivateShm | undefined;
  /** Register an open session; returns the function that unregisters it. */
  track(kind: string): () => void;
  log(line: string): void;
}

/** Resolves once everything written to `w` so far has been handed to the SSH layer (or the channel is gone). */
function flushed(w: Writable, channel: ServerChannel): Promise<void> {
  return new Promise((resolve) => {
    if (w.destroyed || !w.writable) return resolve();
    channel.once("close", () => resolve());
    w.write(Buffer.alloc(0), () => resolve());
  });
}

export function handleSession(session: Session, host: SessionHost): void {
  let pty: (PseudoTtyInfo & { size: WindowSize }) | undefined;
  const extraEnv: Record<string, string> = {};
  let child: ChildProcess | undefined;

  session.on("pty", (accept, reject, info) => {
    if (child) return reject?.();
    pty = { ...info, size: normalizeSize(info) };
    accept?.();
  });
  session.on("window-change", (accept, _reject, info) => {
    if (pty) {
      pty.size = normalizeSize(info);
      if (child) resizePty(child, pty.size);
    }
    accept?.();
  });
  session.on("env", (accept, reject, info) => {
    if (!child && acceptedEnvName(info.key) && info.val.length < 4096 && !info.val.includes("\0")) {
      extraEnv[info.key] = info.val;
      accept?.();
    } else reject?.();
  });
  session.on("signal", (accept, reject, info) => {
    const name = info.name.replace(/^SIG/, "");
    const number = (constants.signals as Record<string, number | undefined>)[`SIG${name}`];
    if (!child || number === undefined) return reject?.();
    if (pty) signalPty(child, number);
    else child.kill(number);
    accept?.();
  });

  const start = (accept: () => ServerChannel, kind: string, program: string[], withPty: boolean) => {
    const { account } = host;
    const env = sessionEnv({
      account,
      pathPrepend: host.pathPrepend,
      path: host.path,
      client: host.client,
      server: host.server,
      term: withPty ? pty?.term || "xterm" : undefined,
      extra: extraEnv,
    });
    const argv = withPty && pty ? ptyArgv(program, pty.size) : program;
    const { command, args } = userCommand(host.setpriv, account, argv, host.procsFiles(), host.shm);
    const proc = spawn(command, args, {
      env,
      cwd: existsSync(account.home) ? account.home : "/",
      stdio: withPty ? ["pipe", "pipe", "pipe", "pipe"] : ["pipe", "pipe", "pipe"],
      // Each session is its own process session, as under sshd: nothing aimed at the gateway's group reaches it.
      detached: true,
    });
    child = proc;
    const channel = accept() as ServerChannel | undefined;
    if (!channel) {
      // The client closed the session while it was being set up.
      proc.kill("SIGKILL");
      return;
    }
    const untrack = host.track(kind);
    host.log(`${account.name} from ${host.client.address}: ${kind} started (pid ${proc.pid ?? "-"})`);
    let spawnError: Error | undefined;
    proc.on("error", (err) => {
      spawnError = err;
    });
    proc.stdout?.pipe(channel, { end: false });
    proc.stderr?.pipe(channel.stderr, { end: false });
    channel.pipe(proc.stdin as Writable);
    proc.stdin?.on("error", () => {}); // the program may exit without reading its input
    (proc.stdio[3] as Writable | undefined)?.on("error", () => {});
    channel.on("close", () => {
      untrack();
      // The client is gone: hang up a terminal; leave programs without one running, as OpenSSH does.
      if (proc.exitCode === null && proc.signalCode === null && withPty) proc.kill("SIGHUP");
      proc.stdout?.unpipe(channel);
      proc.stderr?.unpipe(channel.stderr);
    });
    proc.on("close", async (code, signal) => {
      untrack();
      if (spawnError) {
        channel.stderr.write(`atrium: cannot start the session: ${spawnError.message}\n`);
      }
      await Promise.all([flushed(channel, channel), flushed(channel.stderr, channel)]);
      if (signal) channel.exit(signal.replace(/^SIG/, ""), false, "");
      else channel.exit(code ?? 255);
      if (channel.writable) channel.end();
      channel.resume(); // input the program did not read is dropped, so the channel can close
      host.log(
        `${account.name} from ${host.client.address}: ${kind} ended (${signal ? `signal ${signal}` : `exit ${code}`})`,
      );
    });
  };

  session.on("shell", (accept, reject) => {
    if (child) return reject?.();
    start(accept, "shell", [host.account.shell, "-l"], pty !== undefined);
  });
  session.on("exec", (accept, reject, info) => {
    if (child) return reject?.();
    start(accept, "exec", [host.account.shell, "-c", info.command], pty !== undefined);
  });
  session.on("subsystem", (accept, reject, info) => {
    if (child || info.name !== "sftp" || !host.sftpServer) {
      host.log(`${host.account.name}: subsystem ${JSON.stringify(info.name)} refused`);
      return reject?.();
    }
    start(accept, "sftp", [host.sftpServer], false);
  });
}
