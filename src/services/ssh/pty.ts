/**
 * Terminals for interactive sessions. Node has no PTY of its own, and the native
 * `node-pty` package has no Linux prebuilds (it would need a C++ toolchain and
 * Node's headers on every machine Atrium is deployed to). The system Python is a
 * prerequisite anyway, and its `os.openpty`/`fork`/`TIOCSWINSZ` are all a terminal
 * needs, so a small relay in Python runs as the user (after setpriv, inside the
 * session's cgroups): it opens the PTY, starts the program on it as a session
 * leader with the PTY as controlling terminal, relays bytes between its own
 * stdin/stdout and the PTY, and reads requests from fd 3: "r ROWS COLS XPIX YPIX\n"
 * resizes the terminal, "s SIGNUM\n" signals its foreground job. It exits with
 * the program's status (128 + signal when killed).
 */
import type { ChildProcess } from "node:child_process";
import type { Writable } from "node:stream";

export const SYSTEM_PYTHON = "/usr/bin/python3";

export const PTY_RELAY = String.raw`
import errno, fcntl, os, select, signal, struct, sys, termios

def set_size(fd, rows, cols, xpix, ypix):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, xpix, ypix))

def write_all(fd, data):
    view = memoryview(data)
    while view:
        try:
            n = os.write(fd, view)
        except BlockingIOError:
            select.select([], [fd], [])
            continue
        view = view[n:]

def main():
    rows, cols, xpix, ypix = (int(x) for x in sys.argv[1:5])
    argv = sys.argv[6:]
    master, slave = os.openpty()
    set_size(slave, rows, cols, xpix, ypix)
    tty = os.ttyname(slave)
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()
            fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
            for fd in (0, 1, 2):
                os.dup2(slave, fd)
            os.closerange(3, 65536)
            # Python ignores these; a shell must start with the default actions.
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
            signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
            os.environ["SSH_TTY"] = tty
            os.execvp(argv[0], argv)
        except OSError as e:
            os.write(2, ("atrium: cannot run %s: %s\r\n" % (argv[0], e.strerror)).encode())
        os._exit(127)
    os.close(slave)
    os.set_blocking(master, False)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    stdin_open, ctl_open, ctl_buf, pending = True, True, b"", b""
    status = None
    while True:
        if status is None:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
        if status is not None:
            while True:
                try:
                    data = os.read(master, 65536)
                except OSError:
                    break
                if not data:
                    break
                write_all(1, data)
            break
        rlist = [master, wake_r]
        if stdin_open and not pending:
            rlist.append(0)
        if ctl_open:
            rlist.append(3)
        ready, writable, _ = select.select(rlist, [master] if pending else [], [])
        if master in writable:
            try:
                n = os.write(master, pending)
                pending = pending[n:]
            except BlockingIOError:
                pass
        if master in ready:
            try:
                data = os.read(master, 65536)
            except BlockingIOError:
                data = None
            except OSError as e:
                if e.errno != errno.EIO:
                    raise
                data = b""
            if data:
                write_all(1, data)
            elif data == b"":
                _, status = os.waitpid(pid, 0)
                break
        if 0 in ready:
            data = os.read(0, 65536)
            if data:
                pending += data
            else:
                stdin_open = False
                # End of input is what Ctrl-D would type at the terminal.
                pending += termios.tcgetattr(master)[6][termios.VEOF]
        if 3 in ready:
            data = os.read(3, 4096)
            if not data:
                ctl_open = False
            ctl_buf += data
            while b"\n" in ctl_buf:
                line, ctl_buf = ctl_buf.split(b"\n", 1)
                parts = line.split()
                if len(parts) == 5 and parts[0] == b"r":
                    set_size(master, *(min(int(p), 65535) for p in parts[1:]))
                elif len(parts) == 2 and parts[0] == b"s":
                    # A signal from the client goes to the terminal's foreground job, as a key would.
                    try:
                        os.killpg(os.tcgetpgrp(master), int(parts[1]))
                    except OSError:
                        pass
        if wake_r in ready:
            try:
                os.read(wake_r, 4096)
            except BlockingIOError:
                pass
    if os.WIFSIGNALED(status):
        sys.exit(128 + os.WTERMSIG(status))
    sys.exit(os.WEXITSTATUS(status))

main()
`;

export interface WindowSize {
  rows: number;
  cols: number;
  width: number;
  height: number;
}

const clamp = (n: unknown, fallback: number) =>
  typeof n === "number" && Number.isInteger(n) && n > 0 ? Math.min(n, 65535) : fallback;

export function normalizeSize(info: Partial<WindowSize>): WindowSize {
  return {
    rows: clamp(info.rows, 24),
    cols: clamp(info.cols, 80),
    width: clamp(info.width, 0),
    height: clamp(info.height, 0),
  };
}

/** The argv that runs `program` on a fresh PTY of `size`, through the relay. */
export function ptyArgv(program: string[], size: WindowSize): string[] {
  return [
    SYSTEM_PYTHON,
    "-I",
    "-S",
    "-c",
    PTY_RELAY,
    String(size.rows),
    String(size.cols),
    String(size.width),
    String(size.height),
    "--",
    ...program,
  ];
}

function control(child: ChildProcess, line: string): void {
  const ctl = child.stdio[3] as Writable | null | undefined;
  if (ctl && !ctl.destroyed && ctl.writable) ctl.write(line);
}

/** Tell a running relay (spawned with a pipe as fd 3) about a new window size. */
export function resizePty(child: ChildProcess, size: WindowSize): void {
  control(child, `r ${size.rows} ${size.cols} ${size.width} ${size.height}\n`);
}

/** Send signal number `signal` to the terminal's foreground job. */
export function signalPty(child: ChildProcess, signal: number): void {
  control(child, `s ${signal}\n`);
}
