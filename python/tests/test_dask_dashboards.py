"""Schedulers' dashboards only on the root-only block; workers without one."""

from __future__ import annotations

import random
import socket

import pytest

from atrium_hub import dask_dashboards

UPSTREAM_SCHEDULER = ["dask", "scheduler", "--host", "127.0.0.1", "--dashboard-address", "127.0.0.1:0", "--port", "0"]
UPSTREAM_WORKER = ["dask", "worker", "tls://127.0.0.1:4000", "--dashboard-address", "127.0.0.1:0", "--name", "w"]


def test_scheduler_dashboard_moves_to_the_given_port() -> None:
    cmd = dask_dashboards.scheduler_command(UPSTREAM_SCHEDULER, 18004)
    assert cmd == ["dask", "scheduler", "--host", "127.0.0.1", "--dashboard-address", "127.0.0.1:18004", "--port", "0"]


def test_worker_has_no_dashboard() -> None:
    cmd = dask_dashboards.worker_command(UPSTREAM_WORKER)
    assert cmd == ["dask", "worker", "tls://127.0.0.1:4000", "--no-dashboard", "--name", "w"]
    assert "127.0.0.1:0" not in cmd


def test_a_command_without_the_option_is_refused() -> None:
    with pytest.raises(ValueError, match="--dashboard-address"):
        dask_dashboards.worker_command(["dask", "worker"])


@pytest.mark.parametrize(
    ("address", "ok"),
    [
        ("http://127.0.0.1:18000", True),
        ("http://127.0.0.1:18499", True),
        ("127.0.0.1:18010", True),
        ("http://127.0.0.1:17999", False),
        ("http://127.0.0.1:18500", False),
        ("http://127.0.0.1:41234", False),
        ("http://0.0.0.0:18010", False),
        ("http://10.0.0.5:18010", False),
        ("http://127.0.0.1", False),
    ],
)
def test_guarded_addresses(address: str, ok: bool) -> None:
    assert dask_dashboards.guarded(address, 18000, 18499) is ok


def test_pick_port_skips_taken_ports() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        taken = holder.getsockname()[1]
        # A block of two ports, one taken: the other is picked every time.
        for seed in range(5):
            port = dask_dashboards.pick_port(taken, taken + 1, random.Random(seed))
            assert port == taken + 1


def test_pick_port_says_when_the_block_is_full() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        taken = holder.getsockname()[1]
        with pytest.raises(OSError, match="taken"):
            dask_dashboards.pick_port(taken, taken)
