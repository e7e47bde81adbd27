/**
 * One SSH session channel on the cluster: a shell, an exec request or the SFTP
 * subsystem, run in the user's server pod through the exec API (pod-exec.ts), with
 * a real terminal there when the client asked for one. The pod is found (or its
 * server started) and checked to be the user's when the program starts.
 *
 * Must stay true: bytes pass untouched; stdout and stderr stay apart without a
 * terminal; the exit status reaches the client after the last byte of output; the
 * client's end of input reaches the program; a slow client slows the program's
 * output rather than filling the gateway's memory.
 */
import type { PseudoTtyInfo, ServerChannel, Session } from "ssh2";
import type { KubeSshUser } from "../../../contracts/kube-ssh-service.js";
import { acceptedEnvName } from "../launch.js";
import { normalizeSize, type WindowSize } from "../pty.js";
import { type PodExec, podCommand, podExec } from "./pod-exec.js";

/** Bytes sent to the pod and not yet written out before the client is asked to wait. */
const HIGH_WATER = 1 << 20;

export interface PodSessionHost {
  user: KubeSshUser;
  client: { address: string; port: number };
  server: { address: string; port: number };
  sftpServerCandidates: string[];
  /** The user's server pod, started if needed; `say` reaches the client's terminal. */
  pod(
    say: (line: string) => void,
  ): Promise<{ api: Parameters<typeof podExec>[0]; namespace: string; name: string; container: string }>;
  track(kind: string): () => void;
  log(line: string): void;
}

/** sh that runs the first sftp-server it finds. */
export function sftpCommand(candidates: readonly string[]): string[] {
  const list = candidates.join(" ");
  return [
    "/bin/sh",
    "-c",
    `for p in ${list}; do [ -x "$p" ] && exec "$p"; done; echo "atrium: no sftp-server in this server's image (looked for ${list})" >&2; exit 127`,
  ];
}

export function handlePodSession(session: Session, host: PodSessionHost): void {
  let pty: (PseudoTtyInfo & { size: WindowSize }) | undefined;
  const extraEnv: Record<string, string> = {};
  let exec: PodExec | undefined;
  let started = false;

  session.on("pty", (accept, reject, info) => {
    if (started) return reject?.();
    pty = { ...info, size: normalizeSize(info) };
    accept?.();
  });
  session.on("window-change", (accept, _reject, info) => {
    if (pty) {
      pty.size = normalizeSize(info);
      exec?.resize(pty.size.cols, pty.size.rows);
    }
    accept?.();
  });
  session.on("env", (accept, reject, info) => {
    if (!started && acceptedEnvName(info.key) && info.val.length < 4096 && !info.val.includes("\0")) {
      extraEnv[info.key] = info.val;
      accept?.();
    } else reject?.();
  });

  const start = (accept: () => ServerChannel, kind: string, argv: string[], withPty: boolean) => {
    started = true;
    const channel = accept() as ServerChannel | undefined;
    if (!channel) return;
    const { user } = host;
    const untrack = host.track(kind);
    const say = (line: string) => {
      if (withPty) channel.write(line);
      else channel.stderr.write(line);
    };
    const done = (code: number) => {
      untrack();
      channel.exit(code);
      if (channel.writable) channel.end();
      channel.resume();
    };
    let closed = false;
    channel.on("close", () => {
      closed = true;
      untrack();
      exec?.kill();
    });
    host
      .pod(say)
      .then((pod) => {
        if (closed) return;
        const env: Record<string, string> = {
          HOME: user.home,
          USER: user.name,
          LOGNAME: user.name,
          SHELL: user.shell,
          SSH_CLIENT: `${host.client.address} ${host.client.port} ${host.server.port}`,
          SSH_CONNECTION: `${host.client.address} ${host.client.port} ${host.server.address} ${host.server.port}`,
          ...extraEnv,
        };
        if (withPty) env.TERM = pty?.term || "xterm";
        const command = podCommand(env, argv);
        host.log(`${user.name} from ${host.client.address}: ${kind} started in pod ${pod.name}`);
        let waiting = 0;
        const running = podExec(pod.api, pod.namespace, pod.name, pod.container, command, withPty, {
          stdout: (data) => {
            if (!channel.write(data)) {
              running.pause();
              channel.once("drain", () => running.resume());
            }
          },
          stderr: (data) => {
            channel.stderr.write(data);
          },
          end: (how) => {
            if ("error" in how) say(`atrium: ${how.error}\r\n`);
            host.log(
              `${user.name} from ${host.client.address}: ${kind} ended (${"code" in how ? `exit ${how.code}` : how.error})`,
            );
            done("code" in how ? how.code : 255);
          },
        });
        exec = running;
        if (withPty && pty) running.resize(pty.size.cols, pty.size.rows);
        channel.on("data", (data: Buffer) => {
          waiting += data.length;
          if (waiting > HIGH_WATER) channel.pause();
          running.write(data, () => {
            waiting -= data.length;
            if (waiting <= HIGH_WATER / 2) channel.resume();
          });
        });
        // a terminal has no end of input of its own (as under sshd): closing it would hang up the program
        channel.on("end", () => {
          if (!withPty) running.endInput();
        });
      })
      .catch((err: unknown) => {
        if (closed) return;
        say(`atrium: ${(err as Error).message}\r\n`);
        host.log(`${user.name} from ${host.client.address}: ${kind} not started: ${(err as Error).message}`);
        done(1);
      });
  };

  session.on("shell", (accept, reject) => {
    if (started) return reject?.();
    start(accept, "shell", [host.user.shell, "-l"], pty !== undefined);
  });
  session.on("exec", (accept, reject, info) => {
    if (started) return reject?.();
    start(accept, "exec", [host.user.shell, "-c", info.command], pty !== undefined);
  });
  session.on("subsystem", (accept, reject, info) => {
    if (started || info.name !== "sftp") {
      host.log(`${host.user.name}: subsystem ${JSON.stringify(info.name)} refused`);
      return reject?.();
    }
    start(accept, "sftp", sftpCommand(host.sftpServerCandidates), false);
  });
}
