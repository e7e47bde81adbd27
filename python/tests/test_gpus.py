"""GPUs for user servers (gpus.py and the spawner's use of it), over a fake device folder
and a fake cgroup tree: this machine has no GPU. One test checks the device rules with
the real kernel (cgroup v1 devices controller, device nodes made with mknod)."""

from __future__ import annotations

import copy
import errno
import os
import secrets
import shutil
from pathlib import Path
from typing import Any

import pytest
from test_spawner import SLEEPER, is_root, make_spawner, sockets_dir, spawner_config  # noqa: F401
from tornado import web

from atrium_hub import gpus
from atrium_hub.gpus import GpuLedger, GpuRefused

PROC_DEVICES = """Character devices:
  1 mem
195 nvidia-frontend
237 nvidia-uvm
238 nvidia-caps

Block devices:
237 nvidia-uvm-not-this-one
"""


def fake_dev(tmp_path: Path, *names: str) -> str:
    dev = tmp_path / "dev"
    dev.mkdir()
    for n in names:
        (dev / n).write_text("")
    return str(dev)


def fake_cgroups(tmp_path: Path, *controllers: str) -> str:
    root = tmp_path / "cgroup"
    for c in controllers:
        (root / c).mkdir(parents=True)
    return str(root)


def test_machine_gpus_are_the_numbered_nvidia_nodes(tmp_path: Path) -> None:
    dev = fake_dev(tmp_path, "nvidia2", "nvidia0", "nvidiactl", "nvidia-uvm", "nvidia-modeset", "null")
    assert gpus.machine_gpus(dev) == [0, 2]
    assert gpus.machine_gpus(str(tmp_path / "missing")) == []


def test_char_major_reads_the_character_section(tmp_path: Path) -> None:
    proc = tmp_path / "devices"
    proc.write_text(PROC_DEVICES)
    assert gpus.char_major("nvidia-uvm", str(proc)) == 237
    assert gpus.char_major("nvidia-uvm-not-this-one", str(proc)) is None
    assert gpus.char_major("nvidia-uvm", str(tmp_path / "missing")) is None


def test_ledger_gives_the_lowest_free_gpus_one_server_each() -> None:
    ledger = GpuLedger()
    assert ledger.claim("alice", "gpu", 1, [3, 1, 2]) == (1,)
    assert ledger.claim("bob", "two", 2, [1, 2, 3]) == (2, 3)
    # starting again: what the server held counts as free for it
    assert ledger.claim("alice", "gpu", 1, [1, 2, 3]) == (1,)
    with pytest.raises(GpuRefused, match=r'^profile "gpu" asks for 1 GPU, but only 0 of this machine\'s 3 GPUs are'):
        ledger.claim("carol", "gpu", 1, [1, 2, 3])
    assert "carol" not in ledger.held()
    ledger.release("bob")
    assert ledger.claim("carol", "gpu", 1, [1, 2, 3]) == (2,)
    assert ledger.claim("dave", "none", 0, [1, 2, 3]) == ()
    assert ledger.held() == {"alice": (1,), "carol": (2,)}


def test_ledger_refuses_more_gpus_than_the_machine_has() -> None:
    ledger = GpuLedger()
    with pytest.raises(GpuRefused, match=r'^profile "big" asks for 4 GPUs, but this machine has only 2 GPUs'):
        ledger.claim("alice", "big", 4, [0, 1])
    with pytest.raises(GpuRefused, match=r'^profile "gpu" asks for 1 GPU, but this machine has no NVIDIA GPU'):
        ledger.claim("alice", "gpu", 1, [])
    ledger.restore("bob", [0])
    with pytest.raises(GpuRefused, match="only 1 of this machine's 2 GPUs is free"):
        ledger.claim("alice", "two", 2, [0, 1])


def test_env_names_the_gpus_in_the_drivers_order() -> None:
    assert gpus.gpu_env([2, 5]) == {
        "CUDA_DEVICE_ORDER": "PCI_BUS_ID",
        "CUDA_VISIBLE_DEVICES": "2,5",
        "NVIDIA_VISIBLE_DEVICES": "2,5",
    }
    assert gpus.gpu_env([]) == {}


def test_device_rules_deny_the_gpus_not_given() -> None:
    assert gpus.device_denials([0, 1, 2], [1], 237) == ["c 195:0 rwm", "c 195:2 rwm"]
    assert gpus.device_denials([0, 1], [0, 1], 237) == []
    # no GPUs: no NVIDIA node at all (nvidiactl, modeset too) and no nvidia-uvm
    assert gpus.device_denials([0, 1], [], 237) == ["c 195:* rwm", "c 237:* rwm"]
    assert gpus.device_denials([0], [], None) == ["c 195:* rwm"]


def test_devices_setup_writes_each_rule_and_needs_the_controller(tmp_path: Path) -> None:
    root = fake_cgroups(tmp_path, "devices")
    d = gpus.v1_devices_setup(root, "atrium/users", "alice", ["c 195:0 rwm", "c 195:2 rwm"])
    assert d == Path(root, "devices/atrium/users/alice")
    assert (d / "devices.deny").read_text() == "c 195:0 rwmc 195:2 rwm"
    with pytest.raises(GpuRefused, match="devices controller is not mounted"):
        gpus.v1_devices_setup(fake_cgroups(tmp_path / "other", "memory"), "p", "alice", ["c 195:0 rwm"])


# --- the spawner ---------------------------------------------------------------------


@pytest.fixture
def fresh_ledger(monkeypatch: pytest.MonkeyPatch) -> GpuLedger:
    ledger = GpuLedger()
    monkeypatch.setattr(gpus, "LEDGER", ledger)
    return ledger


def gpu_config(data: dict[str, Any], tmp_path: Path, *nodes: str, **overrides: Any) -> Any:
    tmp_path.mkdir(exist_ok=True)
    proc = tmp_path / "proc-devices"
    proc.write_text(PROC_DEVICES)
    settings: dict[str, Any] = {
        "cgroup_mode": "v1",
        "cgroup_v1_root": fake_cgroups(tmp_path, "memory", "cpu", "devices"),
        "cgroup_parent": "p",
        "gpu_dev_dir": fake_dev(tmp_path, *nodes),
        "gpu_proc_devices": str(proc),
    }
    return spawner_config(data, **{**settings, **overrides})


def started(spawner: Any) -> None:
    """What start() does before it forks: the profile, the GPUs, the cgroups."""
    spawner.claim_gpus(spawner.apply_profile())
    spawner.prepare_limits()
    spawner.limit_gpu_access()


def test_gpu_server_gets_its_gpus_env_and_device_rules(
    db: Any,
    data: dict[str, Any],
    tmp_path: Path,
    fresh_ledger: GpuLedger,
) -> None:
    config = gpu_config(data, tmp_path, "nvidia0", "nvidia1", "nvidiactl")
    bob = make_spawner(db, "bob", config, {"profile": "gpu"})
    started(bob)
    assert bob.gpu_ids == [0]
    env = bob.get_env()
    assert (env["CUDA_VISIBLE_DEVICES"], env["NVIDIA_VISIBLE_DEVICES"]) == ("0", "0")
    devices = tmp_path / "cgroup/devices/p/bob"
    assert (devices / "devices.deny").read_text() == "c 195:1 rwm"
    assert bob.cgroup_record["dirs"]["devices"] == str(devices)
    assert bob.get_state()["atrium_gpus"] == [0]

    carol = make_spawner(db, "carol", config, {"profile": "gpu"})
    started(carol)
    assert carol.gpu_ids == [1]
    assert (tmp_path / "cgroup/devices/p/carol/devices.deny").read_text() == "c 195:0 rwm"

    # both GPUs are taken: a third GPU server is refused, naming the profile and the count
    extra = copy.deepcopy(data)
    extra["profiles"][2]["users"].append("alice")
    alice = make_spawner(db, "alice", gpu_config(extra, tmp_path / "a", "nvidia0", "nvidia1"), {"profile": "gpu"})
    with pytest.raises(web.HTTPError) as refused:
        started(alice)
    assert refused.value.status_code == 503
    message = refused.value.jupyterhub_message  # type: ignore[attr-defined]
    assert 'profile "gpu" asks for 1 GPU, but only 0 of this machine\'s 2 GPUs are free' in message
    assert fresh_ledger.held() == {"bob": (0,), "carol": (1,)}

    # the hub restarts: the running servers' GPUs come back from their state
    fresh_ledger.release("bob")
    restored = make_spawner(db, "bob", config)
    restored.load_state(bob.get_state())
    assert fresh_ledger.held()["bob"] == (0,)
    restored.clear_state()
    assert "bob" not in fresh_ledger.held()


def test_cpu_server_on_a_gpu_machine_is_denied_every_gpu(
    db: Any,
    data: dict[str, Any],
    tmp_path: Path,
    fresh_ledger: GpuLedger,
) -> None:
    alice = make_spawner(db, "alice", gpu_config(data, tmp_path, "nvidia0"), {"profile": "small"})
    started(alice)
    assert alice.gpu_ids == []
    assert "CUDA_VISIBLE_DEVICES" not in alice.get_env()
    assert (tmp_path / "cgroup/devices/p/alice/devices.deny").read_text() == "c 195:* rwmc 237:* rwm"
    assert fresh_ledger.held() == {}


def test_no_gpu_machine_leaves_cpu_servers_alone_and_refuses_gpu_ones(
    db: Any,
    data: dict[str, Any],
    tmp_path: Path,
    fresh_ledger: GpuLedger,
) -> None:
    config = gpu_config(data, tmp_path, "null")
    alice = make_spawner(db, "alice", config, {"profile": "small"})
    started(alice)
    assert not (tmp_path / "cgroup/devices/p/alice").exists()
    assert "devices" not in alice.cgroup_record["dirs"]
    bob = make_spawner(db, "bob", config, {"profile": "gpu"})
    with pytest.raises(web.HTTPError) as refused:
        started(bob)
    assert 'profile "gpu" asks for 1 GPU, but this machine has no NVIDIA GPU' in refused.value.jupyterhub_message  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"cgroup_mode": "off"}, "cgroup mode off cannot limit a server's GPU access"),
        ({"cgroup_mode": "v2-systemd"}, "cgroup mode v2-systemd cannot limit"),
        ({"cgroup_v1_root": "/nonexistent"}, "devices controller is not mounted at /nonexistent/devices"),
    ],
)
def test_gpu_server_without_the_devices_controller_is_refused(
    db: Any,
    data: dict[str, Any],
    tmp_path: Path,
    fresh_ledger: GpuLedger,
    overrides: dict[str, Any],
    reason: str,
) -> None:
    bob = make_spawner(db, "bob", gpu_config(data, tmp_path, "nvidia0", **overrides), {"profile": "gpu"})
    with pytest.raises(web.HTTPError) as refused:
        bob.claim_gpus(bob.apply_profile())
    assert refused.value.status_code == 503
    assert reason in refused.value.jupyterhub_message  # type: ignore[attr-defined]
    assert fresh_ledger.held() == {}
    assert bob.gpu_ids == []


@pytest.mark.skipif(not is_root, reason="starts a process as a Linux user; needs root")
async def test_start_joins_the_devices_group_before_exec(
    db: Any,
    data: dict[str, Any],
    tmp_path: Path,
    sockets_dir: str,  # noqa: F811
    fresh_ledger: GpuLedger,
) -> None:
    extra = copy.deepcopy(data)
    extra["profiles"][2]["users"].append("root")
    config = gpu_config(extra, tmp_path, "nvidia0", "nvidia1", sockets_dir=sockets_dir)
    config.Spawner.cmd = SLEEPER
    spawner = make_spawner(db, "root", config, {"profile": "gpu"})
    try:
        await spawner.start()
        assert (tmp_path / "cgroup/devices/p/root/cgroup.procs").read_text() == str(spawner.pid)
        env = Path(f"/proc/{spawner.pid}/environ").read_bytes().split(b"\0")
        assert b"CUDA_VISIBLE_DEVICES=0" in env
        assert fresh_ledger.held() == {"root": (0,)}
    finally:
        await spawner.stop(now=True)
    assert fresh_ledger.held() == {}
    assert spawner.get_state() == {}


REAL_DEVICES = Path("/sys/fs/cgroup/devices")


@pytest.mark.skipif(not (is_root and REAL_DEVICES.is_dir()), reason="needs root and the cgroup v1 devices controller")
def test_the_kernel_denies_the_gpu_nodes_not_given(tmp_path: Path) -> None:
    """Real device nodes with NVIDIA's major: opening a denied one fails with EPERM (the
    cgroup), an allowed one with ENXIO (no driver here)."""
    nodes = tmp_path / "nodes"
    nodes.mkdir()
    for minor in (0, 1):
        os.mknod(nodes / f"nvidia{minor}", 0o600 | 0o020000, os.makedev(gpus.NVIDIA_MAJOR, minor))
    parent = f"atrium-test-gpus-{secrets.token_hex(4)}"
    group = gpus.v1_devices_setup(str(REAL_DEVICES.parent), parent, "root", gpus.device_denials([0, 1], [0], None))
    try:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: join the group the way the server does, then try both nodes
            os.close(r)
            codes = []
            try:
                gpus.v1_join_fn(str(group / "cgroup.procs"))()
                for minor in (0, 1):
                    try:
                        os.close(os.open(nodes / f"nvidia{minor}", os.O_RDWR))
                        codes.append("0")
                    except OSError as e:
                        codes.append(errno.errorcode.get(e.errno or 0, "?"))
            finally:
                os.write(w, ",".join(codes).encode())
                os._exit(0)
        os.close(w)
        with os.fdopen(r) as f:
            result = f.read()
        os.waitpid(pid, 0)
        assert result == "ENXIO,EPERM"
    finally:
        for d in (group, group.parent):
            if d.exists():
                d.rmdir()
        shutil.rmtree(nodes, ignore_errors=True)
