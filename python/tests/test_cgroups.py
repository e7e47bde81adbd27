from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from atrium_hub import cgroups
from atrium_hub.cgroups import Limits

GiB = 1024**3


def read(path: Path) -> str:
    return path.read_text()


def test_v1_setup_writes_limits_under_the_given_root(tmp_path: Path) -> None:
    limits = Limits(mem_limit=4 * GiB, mem_guarantee=GiB, cpu_limit=1.5, cpu_guarantee=0.5)
    ready, failed = cgroups.v1_setup(str(tmp_path), "atrium/team/users", "alice", limits)
    mem = tmp_path / "memory/atrium/team/users/alice"
    cpu = tmp_path / "cpu/atrium/team/users/alice"
    assert failed == {}
    assert ready == {"memory": mem, "cpu": cpu}
    assert read(mem / "memory.limit_in_bytes") == str(4 * GiB)
    assert read(mem / "memory.soft_limit_in_bytes") == str(GiB)
    assert read(mem / "memory.oom_control") == "0"
    assert not (mem / "memory.memsw.limit_in_bytes").exists()
    assert read(cpu / "cpu.cfs_period_us") == "100000"
    assert read(cpu / "cpu.cfs_quota_us") == "150000"
    assert read(cpu / "cpu.shares") == "512"


def test_v1_setup_writes_a_pids_limit_where_the_pids_controller_is_mounted(tmp_path: Path) -> None:
    (tmp_path / "pids").mkdir()
    ready, failed = cgroups.v1_setup(str(tmp_path), "p", "alice", Limits(pids_limit=300))
    assert failed == {}
    assert ready["pids"] == tmp_path / "pids/p/alice"
    assert read(tmp_path / "pids/p/alice/pids.max") == "300"
    cgroups.v1_setup(str(tmp_path), "p", "bob", Limits())
    assert read(tmp_path / "pids/p/bob/pids.max") == "max"


def test_v1_setup_caps_swap_when_memsw_exists(tmp_path: Path) -> None:
    mem = tmp_path / "memory/p/alice"
    mem.mkdir(parents=True)
    (mem / "memory.memsw.limit_in_bytes").write_text("9223372036854771712")
    cgroups.v1_setup(str(tmp_path), "p", "alice", Limits(mem_limit=GiB))
    assert read(mem / "memory.memsw.limit_in_bytes") == str(GiB)


def test_v1_memory_write_order_keeps_memsw_above_memory() -> None:
    assert cgroups.v1_memory_writes(Limits(mem_limit=GiB), has_memsw=True) == [
        ("memory.memsw.limit_in_bytes", "-1"),
        ("memory.limit_in_bytes", str(GiB)),
        ("memory.memsw.limit_in_bytes", str(GiB)),
        ("memory.soft_limit_in_bytes", "-1"),
        ("memory.oom_control", "0"),
    ]


def test_v1_no_limits_resets_a_reused_group(tmp_path: Path) -> None:
    cgroups.v1_setup(str(tmp_path), "p", "bob", Limits(mem_limit=GiB, cpu_limit=1))
    cgroups.v1_setup(str(tmp_path), "p", "bob", Limits())
    assert read(tmp_path / "memory/p/bob/memory.limit_in_bytes") == "-1"
    assert read(tmp_path / "cpu/p/bob/cpu.cfs_quota_us") == "-1"
    assert read(tmp_path / "cpu/p/bob/cpu.shares") == "1024"


def test_v1_setup_reports_a_failing_controller_and_keeps_the_other(tmp_path: Path) -> None:
    (tmp_path / "cpu").write_text("not a directory")
    ready, failed = cgroups.v1_setup(str(tmp_path), "p", "carol", Limits(mem_limit=GiB, cpu_limit=1))
    assert list(ready) == ["memory"]
    assert list(failed) == ["cpu"]
    assert failed["cpu"].startswith(f"{tmp_path}/cpu/p/carol: ")


def test_join_fn_writes_the_child_pid_before_exec(tmp_path: Path) -> None:
    procs = [tmp_path / "memory.procs", tmp_path / "cpu.procs"]
    for p in procs:
        p.write_text("")
    child = subprocess.Popen(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        preexec_fn=cgroups.v1_join_fn([str(p) for p in procs]),
        stdout=subprocess.PIPE,
        text=True,
    )
    out, _ = child.communicate(timeout=30)
    assert out.strip() == str(child.pid)
    assert [read(p) for p in procs] == [str(child.pid), str(child.pid)]


def test_join_fn_failure_warns_and_still_execs(tmp_path: Path) -> None:
    child = subprocess.run(
        [sys.executable, "-c", "print('started')"],
        preexec_fn=cgroups.v1_join_fn([str(tmp_path / "missing/cgroup.procs")]),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert child.stdout == "started\n"
    assert f"atrium: warning: could not join cgroup {tmp_path}/missing/cgroup.procs" in child.stderr


def test_v1_members_and_remove(tmp_path: Path) -> None:
    leaf = tmp_path / "leaf"
    leaf.mkdir()
    assert cgroups.v1_members(leaf) == []
    (leaf / "cgroup.procs").write_text("12\n34\n")
    assert cgroups.v1_members(leaf) == [12, 34]
    assert cgroups.v1_remove(leaf) is False
    (leaf / "cgroup.procs").unlink()
    assert cgroups.v1_remove(leaf) is True
    assert not leaf.exists()


def test_leaf_names() -> None:
    assert cgroups.leaf_name("alice") == "alice"
    assert cgroups.leaf_name("alice", "gpu-work") == "alice:gpu-work"


def test_systemd_names_are_escaped() -> None:
    assert cgroups.slice_name("atrium/team/users") == "atrium-team-users.slice"
    assert cgroups.slice_name("atrium/data-team/users") == "atrium-data\\x2dteam-users.slice"
    assert cgroups.systemd_escape(".hidden é") == "\\x2ehidden\\x20\\xc3\\xa9"
    assert cgroups.scope_unit_name("alice:w-1", "0a1b") == "atrium-server-alice:w\\x2d1-0a1b.scope"


def test_v2_command_with_all_limits() -> None:
    cmd = cgroups.systemd_run_prefix(
        slice_="atrium-team-users.slice",
        unit="atrium-server-alice-0a1b.scope",
        user="alice",
        gid=1001,
        limits=Limits(mem_limit=4 * GiB, mem_guarantee=GiB, cpu_limit=1.5, cpu_guarantee=0.5, pids_limit=300),
    )
    assert cmd == [
        "systemd-run",
        "--scope",
        "--quiet",
        "--collect",
        "--slice=atrium-team-users.slice",
        "--unit=atrium-server-alice-0a1b.scope",
        "--uid=alice",
        "--gid=1001",
        "-p",
        f"MemoryMax={4 * GiB}",
        "-p",
        "MemorySwapMax=0",
        "-p",
        f"MemoryLow={GiB}",
        "-p",
        "CPUQuota=150%",
        "-p",
        "CPUWeight=50",
        "-p",
        "TasksMax=300",
        "--",
    ]


def test_v2_command_without_limits_still_makes_a_scope() -> None:
    cmd = cgroups.systemd_run_prefix(
        slice_="s.slice", unit="u.scope", user="bob", gid=7, limits=Limits(), systemd_run="/usr/bin/systemd-run"
    )
    assert cmd == [
        "/usr/bin/systemd-run",
        "--scope",
        "--quiet",
        "--collect",
        "--slice=s.slice",
        "--unit=u.scope",
        "--uid=bob",
        "--gid=7",
        "--",
    ]
    assert cgroups.scope_stop_command("u.scope") == ["systemctl", "stop", "--no-block", "u.scope"]


def test_detect_mode_reads_the_hierarchy(tmp_path: Path) -> None:
    from atrium_hub.cgroups import detect_mode

    v1 = tmp_path / "v1"
    (v1 / "memory").mkdir(parents=True)
    (v1 / "cpu").mkdir()
    assert detect_mode(str(v1), str(tmp_path / "no-systemd")) == "v1"
    v2 = tmp_path / "v2"
    v2.mkdir()
    (v2 / "cgroup.controllers").write_text("memory cpu\n")
    marker = tmp_path / "systemd"
    assert detect_mode(str(v2), str(marker)) == "off"
    marker.mkdir()
    assert detect_mode(str(v2), str(marker)) == "v2-systemd"
    assert detect_mode(str(tmp_path / "none"), str(marker)) == "off"


def test_private_shm_is_half_the_memory_limit() -> None:
    from atrium_hub import private_shm

    assert private_shm.shm_size(2 * GiB) == GiB
    assert private_shm.shm_size(0) == 0
    assert private_shm.tmpfs_options(GiB) == f"mode=1777,size={GiB}".encode()
    assert private_shm.tmpfs_options(0) == b"mode=1777"
