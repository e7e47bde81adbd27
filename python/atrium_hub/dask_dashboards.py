"""Dask dashboards only on ports the kernel keeps for root.

A scheduler's dashboard has no login of its own: the platform's dashboard guard
(a root process, behind the gateway's root-only web proxy) decides who may see it.
Upstream starts every scheduler and worker with `--dashboard-address 127.0.0.1:0`,
so each dashboard listens on a random loopback port any local user can connect to.

Here a scheduler's dashboard listens on a port of the platform's dashboard block,
which the project's nftables table (see the TypeScript `firewallScript`) closes to
every socket not owned by root, and a worker has no dashboard at all (the platform
never routes to one). A scheduler whose dashboard ends up outside the block (its
port was taken between the pick and the bind, so distributed fell back to a random
one) is stopped rather than left open.
"""

from __future__ import annotations

import errno
import random
import socket
from collections.abc import Sequence

HOST = "127.0.0.1"


def pick_port(first: int, last: int, rng: random.Random | None = None) -> int:
    """A port of [first, last] that is free on loopback now; OSError when none is."""
    ports = list(range(first, last + 1))
    (rng or random.Random()).shuffle(ports)
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((HOST, port))
            except OSError as e:
                if e.errno == errno.EADDRINUSE:
                    continue
                raise
            return port
    raise OSError(errno.EADDRINUSE, f"every dashboard port {first}-{last} is taken")


def port_of(address: str) -> int | None:
    """The port of an address such as `127.0.0.1:18004` or `http://127.0.0.1:18004`."""
    tail = address.rsplit(":", 1)[-1].rstrip("/")
    return int(tail) if tail.isdigit() else None


def guarded(address: str, first: int, last: int) -> bool:
    """Whether a reported dashboard address is on loopback inside the root-only block."""
    port = port_of(address)
    host = address.split("://", 1)[-1].rsplit(":", 1)[0]
    return port is not None and first <= port <= last and host in (HOST, "localhost")


def _replace_option(cmd: Sequence[str], option: str, value: list[str]) -> list[str]:
    out = list(cmd)
    if option not in out:
        raise ValueError(f"{option} not in the command {out!r}")
    at = out.index(option)
    return out[:at] + value + out[at + 2 :]


def scheduler_command(cmd: Sequence[str], port: int) -> list[str]:
    """The scheduler's command with its dashboard on `port` of loopback."""
    return _replace_option(cmd, "--dashboard-address", ["--dashboard-address", f"{HOST}:{port}"])


def worker_command(cmd: Sequence[str]) -> list[str]:
    """The worker's command without a dashboard."""
    return _replace_option(cmd, "--dashboard-address", ["--no-dashboard"])
