"""Per-server resource limits: cgroup v1 files, or a systemd scope on cgroup v2.

Each user server gets its own leaf cgroup `<parent>/<leaf>` under Atrium's cgroup.

- `v1`: the hub (root) creates `<v1_root>/memory/<parent>/<leaf>` and
  `<v1_root>/cpu/<parent>/<leaf>` (and `<v1_root>/pids/<parent>/<leaf>` where the
  pids controller is mounted), writes the limits, and the forked child writes
  its own pid into each `cgroup.procs` before it drops privileges and execs, so
  the server and everything it starts are inside the group from the first
  instruction.
- `v2-systemd`: the server command is wrapped in `systemd-run --scope`, which
  creates the scope with the limits, moves itself in, switches uid/gid and execs.

What must stay true: memory limits cover swap too (memsw / MemorySwapMax), so a
server cannot escape its limit by swapping; when the limit is hit the kernel's
OOM killer acts inside the group (v1: `memory.oom_control` keeps it enabled; it
kills the largest process there, usually a kernel, not some other user's work);
a pids limit (v1 `pids.max`, systemd `TasksMax`) caps the tasks of the group, so
a fork bomb stops there and not at the machine's limit.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

CFS_PERIOD_US = 100_000
CPU_SHARES_DEFAULT = 1024
CPU_WEIGHT_DEFAULT = 100


def detect_mode(v1_root: str = "/sys/fs/cgroup", systemd_marker: str = "/run/systemd/system") -> str:
    """The cgroup mode this machine allows: `v1` where the v1 memory and cpu
    controllers are mounted, `v2-systemd` on a unified hierarchy run by systemd
    (whose delegation is used rather than writing behind its back), else `off`."""
    root = Path(v1_root)
    if (root / "cgroup.controllers").exists():
        return "v2-systemd" if Path(systemd_marker).exists() else "off"
    if (root / "memory").is_dir() and (root / "cpu").is_dir():
        return "v1"
    return "off"


@dataclass(frozen=True)
class Limits:
    """Resource limits of one server; 0 means "no limit" / "no guarantee"."""

    mem_limit: int = 0
    mem_guarantee: int = 0
    cpu_limit: float = 0.0
    cpu_guarantee: float = 0.0
    #: Most tasks (processes and threads) in the group.
    pids_limit: int = 0


def leaf_name(user: str, server_name: str = "") -> str:
    # ':' cannot occur in a Linux user name, so named servers never collide with users
    return f"{user}:{server_name}" if server_name else user


# --- cgroup v1 ----------------------------------------------------------------


def v1_group_dirs(v1_root: str, parent: str, leaf: str) -> dict[str, Path]:
    dirs = {
        "memory": Path(v1_root, "memory", parent, leaf),
        "cpu": Path(v1_root, "cpu", parent, leaf),
    }
    if Path(v1_root, "pids").is_dir():
        dirs["pids"] = Path(v1_root, "pids", parent, leaf)
    return dirs


def v1_memory_writes(limits: Limits, has_memsw: bool) -> list[tuple[str, str]]:
    """The (file, value) writes for the memory controller, in a safe order.

    The kernel requires memsw >= memory at every step, so memsw is first lifted to
    unlimited, then the memory limit set, then memsw lowered to the same value.
    """
    limit = str(limits.mem_limit) if limits.mem_limit else "-1"
    writes: list[tuple[str, str]] = []
    if has_memsw:
        writes.append(("memory.memsw.limit_in_bytes", "-1"))
    writes.append(("memory.limit_in_bytes", limit))
    if has_memsw and limits.mem_limit:
        writes.append(("memory.memsw.limit_in_bytes", limit))
    writes.append(("memory.soft_limit_in_bytes", str(limits.mem_guarantee) if limits.mem_guarantee else "-1"))
    writes.append(("memory.oom_control", "0"))
    return writes


def v1_cpu_writes(limits: Limits) -> list[tuple[str, str]]:
    quota = str(max(1000, round(limits.cpu_limit * CFS_PERIOD_US))) if limits.cpu_limit else "-1"
    shares = max(2, round(limits.cpu_guarantee * CPU_SHARES_DEFAULT)) if limits.cpu_guarantee else CPU_SHARES_DEFAULT
    return [
        ("cpu.cfs_period_us", str(CFS_PERIOD_US)),
        ("cpu.cfs_quota_us", quota),
        ("cpu.shares", str(shares)),
    ]


def v1_pids_writes(limits: Limits) -> list[tuple[str, str]]:
    return [("pids.max", str(limits.pids_limit) if limits.pids_limit else "max")]


def _write(path: Path, value: str) -> None:
    # cgroup files take one write(2) each; no truncation or temp files
    with open(path, "w") as f:
        f.write(value)


def v1_setup(v1_root: str, parent: str, leaf: str, limits: Limits) -> tuple[dict[str, Path], dict[str, str]]:
    """Create the leaf groups and write the limits.

    Returns (ready controllers -> dir, failed controllers -> reason). A controller
    that failed is left out, so the server still starts with what could be set.
    """
    ready: dict[str, Path] = {}
    failed: dict[str, str] = {}
    for controller, directory in v1_group_dirs(v1_root, parent, leaf).items():
        try:
            directory.mkdir(parents=True, exist_ok=True)
            if controller == "memory":
                writes = v1_memory_writes(limits, (directory / "memory.memsw.limit_in_bytes").exists())
            elif controller == "pids":
                writes = v1_pids_writes(limits)
            else:
                writes = v1_cpu_writes(limits)
            for name, value in writes:
                _write(directory / name, value)
        except OSError as e:
            failed[controller] = f"{directory}: {e.strerror or e}"
        else:
            ready[controller] = directory
    return ready, failed


def v1_join_fn(procs_files: Sequence[str]) -> Callable[[], None]:
    """A function for the forked child (before exec) that moves it into the groups.

    Runs between fork and exec, so it only does plain writes; a failure is
    reported on stderr (the server log) and does not stop the server.
    """
    files = tuple(procs_files)

    def join() -> None:
        pid = str(os.getpid())
        for path in files:
            try:
                with open(path, "w") as f:
                    f.write(pid)
            except OSError as e:
                os.write(2, f"atrium: warning: could not join cgroup {path}: {e.strerror}\n".encode())

    return join


def v1_members(directory: Path) -> list[int]:
    try:
        text = (directory / "cgroup.procs").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


def v1_remove(directory: Path) -> bool:
    """Remove an empty leaf group; False if it still has processes or is gone."""
    try:
        directory.rmdir()
    except OSError:
        return False
    return True


# --- cgroup v2 through systemd -------------------------------------------------


def systemd_escape(text: str) -> str:
    """Escape one unit-name component the way `systemd-escape` does."""
    out = []
    for i, ch in enumerate(text):
        if ch.isascii() and (ch.isalnum() or ch in ":_" or (ch == "." and i > 0)):
            out.append(ch)
        elif ch == "/":
            out.append("-")
        else:
            out.extend(f"\\x{b:02x}" for b in ch.encode())
    return "".join(out)


def slice_name(parent: str) -> str:
    """`atrium/team/users` -> `atrium-team-users.slice` (nested slices, escaped)."""
    return "-".join(systemd_escape(part) for part in parent.split("/")) + ".slice"


def scope_unit_name(leaf: str, suffix: str | None = None) -> str:
    # a fresh suffix avoids clashing with a scope of an earlier server that lingers
    return f"atrium-server-{systemd_escape(leaf)}-{suffix or secrets.token_hex(4)}.scope"


def systemd_run_prefix(
    *,
    slice_: str,
    unit: str,
    user: str,
    gid: int,
    limits: Limits,
    systemd_run: str = "systemd-run",
) -> list[str]:
    """The command that runs the server in a transient scope with the limits.

    systemd-run switches uid and gid itself (after creating the scope, which needs
    root) but keeps the caller's supplementary groups, so the caller must set the
    user's groups before exec.
    """
    cmd = [
        systemd_run,
        "--scope",
        "--quiet",
        "--collect",
        f"--slice={slice_}",
        f"--unit={unit}",
        f"--uid={user}",
        f"--gid={gid}",
    ]
    props: list[str] = []
    if limits.mem_limit:
        props += [f"MemoryMax={limits.mem_limit}", "MemorySwapMax=0"]
    if limits.mem_guarantee:
        props.append(f"MemoryLow={limits.mem_guarantee}")
    if limits.cpu_limit:
        props.append(f"CPUQuota={max(1, round(limits.cpu_limit * 100))}%")
    if limits.cpu_guarantee:
        props.append(f"CPUWeight={min(10000, max(1, round(limits.cpu_guarantee * CPU_WEIGHT_DEFAULT)))}")
    if limits.pids_limit:
        props.append(f"TasksMax={limits.pids_limit}")
    for prop in props:
        cmd += ["-p", prop]
    cmd.append("--")
    return cmd


def scope_stop_command(unit: str, systemctl: str = "systemctl") -> list[str]:
    """Stops whatever the server left behind in its scope."""
    return [systemctl, "stop", "--no-block", unit]
