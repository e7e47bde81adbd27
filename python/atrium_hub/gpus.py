"""NVIDIA GPUs for user servers: which ones a server gets, its environment, its cgroup rules.

How GPUs are given out:
- the GPUs are the `/dev/nvidia<N>` nodes of the machine (N is the device's minor
  number, the driver's index); nvidiactl, nvidia-modeset and nvidia-uvm are not GPUs;
- a GPU belongs to one running server at a time. A server asking `gpus` GPUs gets the
  lowest-numbered ones no running server holds (deterministic: the same free set
  gives the same choice); with fewer free than asked the spawn is refused, naming the
  profile and the count. The ledger of who holds what lives in the hub process and is
  rebuilt from the spawners' saved state when the hub restarts;
- the server's environment names its GPUs: CUDA_VISIBLE_DEVICES and
  NVIDIA_VISIBLE_DEVICES list their indexes, with CUDA_DEVICE_ORDER=PCI_BUS_ID so
  CUDA counts them in the driver's order (its default is fastest first);
- the environment is a convention only; the server's cgroup (v1 `devices`
  controller) enforces it: it denies the GPU nodes (char major 195) the server was
  not given. A server with no GPUs on a machine with GPUs is denied all of them and
  nvidia-uvm (its major read from /proc/devices). Without the devices controller a
  server that would need these rules is refused rather than given every GPU.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

#: The char major of /dev/nvidia<N>, nvidiactl (minor 255) and nvidia-modeset (254).
NVIDIA_MAJOR = 195
DEV_DIR = "/dev"
PROC_DEVICES = "/proc/devices"
_GPU_NODE = re.compile(r"^nvidia(\d+)$")


class GpuRefused(Exception):
    """A server cannot get the GPUs its profile asks for; the message says why and what to do."""


def machine_gpus(dev_dir: str = DEV_DIR) -> list[int]:
    """The indexes of the `nvidia<N>` nodes in `dev_dir`, in order."""
    try:
        names = os.listdir(dev_dir)
    except OSError:
        return []
    return sorted(int(m.group(1)) for m in map(_GPU_NODE.match, names) if m)


def char_major(name: str, proc_devices: str = PROC_DEVICES) -> int | None:
    """The major number of the character device driver `name` in /proc/devices."""
    try:
        text = Path(proc_devices).read_text()
    except OSError:
        return None
    section = ""
    for line in text.splitlines():
        if line.endswith(":"):
            section = line
            continue
        parts = line.split()
        if section.startswith("Character") and len(parts) == 2 and parts[1] == name and parts[0].isdigit():
            return int(parts[0])
    return None


def _count(n: int) -> str:
    return "1 GPU" if n == 1 else f"{n} GPUs"


class GpuLedger:
    """Which running server holds which GPUs (keyed by the server's cgroup leaf name)."""

    def __init__(self) -> None:
        self._held: dict[str, tuple[int, ...]] = {}

    def held(self) -> Mapping[str, tuple[int, ...]]:
        return dict(self._held)

    def claim(self, key: str, profile: str, wanted: int, gpus: Iterable[int]) -> tuple[int, ...]:
        """Give `key` the `wanted` lowest-numbered free GPUs of `gpus`, or raise GpuRefused.

        GPUs `key` held before (a server started again) count as free for it.
        """
        machine = sorted(set(gpus))
        self._held.pop(key, None)
        if wanted <= 0:
            return ()
        if wanted > len(machine):
            has = f"only {_count(len(machine))}" if machine else "no NVIDIA GPU"
            raise GpuRefused(
                f'profile "{profile}" asks for {_count(wanted)}, but this machine has {has}: '
                "choose a profile with fewer GPUs, or ask the admin to fix the profile's gpus"
            )
        taken = {g for held in self._held.values() for g in held}
        free = [g for g in machine if g not in taken]
        if wanted > len(free):
            raise GpuRefused(
                f'profile "{profile}" asks for {_count(wanted)}, but only {len(free)} of this machine\'s '
                f"{_count(len(machine))} {'is' if len(free) == 1 else 'are'} free (running servers hold the others): "
                "try again when a server stops, or choose a profile with fewer GPUs"
            )
        chosen = tuple(free[:wanted])
        self._held[key] = chosen
        return chosen

    def restore(self, key: str, gpus: Iterable[int]) -> None:
        """Record what a server started before (from its saved state) as held."""
        chosen = tuple(gpus)
        if chosen:
            self._held[key] = chosen

    def release(self, key: str) -> None:
        self._held.pop(key, None)


#: The hub's one ledger: every spawner in the hub process shares it.
LEDGER = GpuLedger()


def gpu_env(chosen: Iterable[int]) -> dict[str, str]:
    """The environment naming the server's GPUs; empty for a server without any."""
    ids = ",".join(str(g) for g in chosen)
    if not ids:
        return {}
    return {"CUDA_DEVICE_ORDER": "PCI_BUS_ID", "CUDA_VISIBLE_DEVICES": ids, "NVIDIA_VISIBLE_DEVICES": ids}


def device_denials(machine: Iterable[int], chosen: Iterable[int], uvm_major: int | None) -> list[str]:
    """The `devices.deny` lines for a server given `chosen` of the `machine` GPUs.

    The group starts from its parent's allow-all; each line adds an exception. A
    server without GPUs loses every NVIDIA node and nvidia-uvm; one with GPUs keeps
    nvidiactl, nvidia-uvm and its own GPU nodes, and loses the other GPUs.
    """
    mine = set(chosen)
    if not mine:
        rules = [f"c {NVIDIA_MAJOR}:* rwm"]
        if uvm_major is not None:
            rules.append(f"c {uvm_major}:* rwm")
        return rules
    return [f"c {NVIDIA_MAJOR}:{g} rwm" for g in sorted(set(machine)) if g not in mine]


def v1_devices_dir(v1_root: str, parent: str, leaf: str) -> Path:
    return Path(v1_root, "devices", parent, leaf)


def require_devices_controller(v1_root: str) -> None:
    if not Path(v1_root, "devices").is_dir():
        raise GpuRefused(
            f"the cgroup v1 devices controller is not mounted at {v1_root}/devices, so the server's "
            "access to the GPUs cannot be limited (run the hub on a machine with cgroup v1's devices "
            "controller, or set the profile's gpus to 0)"
        )


def v1_devices_setup(v1_root: str, parent: str, leaf: str, denials: Iterable[str]) -> Path:
    """Create the server's devices group and write the denials; GpuRefused when it cannot."""
    require_devices_controller(v1_root)
    directory = v1_devices_dir(v1_root, parent, leaf)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for rule in denials:
            # one write(2) per rule: the kernel parses one rule per write (and ignores
            # the offset, so appending works there and in the tests' plain files)
            with open(directory / "devices.deny", "a") as f:
                f.write(rule)
    except OSError as e:
        raise GpuRefused(f"cannot limit the server's GPU access in {directory}: {e.strerror or e}") from None
    return directory


def v1_join_fn(procs_file: str) -> Callable[[], None]:
    """For the forked child before exec: join the devices group, or fail the spawn.

    Unlike the resource limits (cgroups.v1_join_fn), a failure here raises, so no
    server ever runs with access to GPUs it was not given.
    """

    def join() -> None:
        with open(procs_file, "w") as f:
            f.write(str(os.getpid()))

    return join
