"""AtriumSpawner: local user servers with profiles, access checks and cgroup limits.

Profiles and access checks are ProfileAccessMixin's (profile_access.py). What must stay true here:
- with cgroup mode `v1` the child joins its cgroups before it drops privileges and
  execs, so no process of the server ever runs outside them; with `v2-systemd`
  systemd-run puts it into a scope before exec;
- every server gets its own /dev/shm (private_shm.py), set up as root before exec;
- a profile's `gpus` is honoured or the spawn refused (gpus.py): the server gets
  free GPUs of its own, named in its environment, and its v1 devices cgroup, which
  it joins before exec, denies it the others;
- failing to set up limits is logged as a warning and the server starts anyway;
  the spawner state records which cgroup (if any) was used;
- the server listens only on a Unix socket in a folder of its user's (see
  server_socket.py); the hub and the proxy reach it through a link root pinned and
  checked, and a server whose socket is not its user's is never marked ready;
- the server's environment does not inherit the hub's PATH, VIRTUAL_ENV or
  PYTHONPATH: PATH is `path_prepend` + a system base; JUPYTER_PATH starts with the
  user's own folder of managed-environment kernels.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jupyterhub.spawner import LocalProcessSpawner, Spawner
from tornado import web
from traitlets import Dict, Enum, Integer, List, Unicode, default

from . import cgroups, gpus, private_shm, server_socket
from .profile_access import ProfileAccessMixin, refusal
from .settings import CGROUP_MODES, Profile

STATE_CGROUP = "atrium_cgroup"
STATE_GPUS = "atrium_gpus"
STATE_SOCKET = "atrium_socket"


def _groups_preexec(name: str) -> Callable[[], None]:
    """For systemd-run: set the user's supplementary groups and cwd, keep uid 0.

    systemd-run needs root to create the scope and then switches uid/gid itself,
    but it does not touch supplementary groups.
    """
    user = pwd.getpwnam(name)
    gids = os.getgrouplist(name, user.pw_gid)
    home = user.pw_dir

    def preexec() -> None:
        os.setgroups(gids)
        with contextlib.suppress(OSError):
            os.chdir(home)

    return preexec


def _kill(pid: int) -> bool:
    """SIGKILL `pid`; False if it was already gone."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, but is not ours to kill
    return True


class AtriumSpawner(ProfileAccessMixin, LocalProcessSpawner):
    """Local user servers: Atrium's profiles and access rules (ProfileAccessMixin) on
    LocalProcessSpawner, with per-server cgroup limits, a private /dev/shm and Unix sockets."""

    cgroup_mode = Enum([m for m in CGROUP_MODES if m != "auto"], default_value="off", help="v1 | v2-systemd | off").tag(
        config=True
    )
    cgroup_v1_root = Unicode("/sys/fs/cgroup", help="Where the v1 controllers are mounted.").tag(config=True)
    cgroup_parent = Unicode("atrium/users", help="Parent cgroup (v1) or slice path (v2) of the servers.").tag(
        config=True
    )
    path_prepend = List(Unicode(), help="Directories put before base_path in the server's PATH.").tag(config=True)
    kernels_dir = Unicode(
        "", help="Parent of the per-user kernelspec folders of managed environments; empty: none."
    ).tag(config=True)
    base_path = Unicode("/usr/local/bin:/usr/bin:/bin", help="System part of the server's PATH.").tag(config=True)
    user_homes = Dict(help="User name -> home directory, from the Atrium config.").tag(config=True)
    user_shells = Dict(help="User name -> login shell, from the Atrium config.").tag(config=True)
    systemd_run = Unicode("systemd-run", help="The systemd-run command (v2-systemd).").tag(config=True)
    systemctl = Unicode("systemctl", help="The systemctl command (v2-systemd).").tag(config=True)
    sockets_dir = Unicode("", help="Root-owned folder of the servers' Unix sockets (server_socket.py); required.").tag(
        config=True
    )
    gpu_dev_dir = Unicode(gpus.DEV_DIR, help="Where the NVIDIA device nodes are (gpus.py).").tag(config=True)
    gpu_proc_devices = Unicode(gpus.PROC_DEVICES, help="The kernel's device list (nvidia-uvm's major).").tag(
        config=True
    )

    cmd: list[str]  # the Spawner.cmd trait; declared for type checkers only

    cgroup_record = Dict(help="Which cgroup the current server uses (saved in the spawner state).")
    socket_path = Unicode("", help="The pinned link to the current server's socket (saved in the spawner state).")
    user_socket = Unicode("", help="Where the current server creates its socket.")
    gpu_ids = List(Integer(), help="The GPUs of the current server (saved in the spawner state).")

    _join_procs: list[str] = []
    _groups_only_preexec = False
    _gpu_join = ""
    _gpu_denials: list[str] = []

    @default("env_keep")
    def _env_keep_default(self) -> list[str]:
        return ["LANG", "LC_ALL", "JUPYTERHUB_SINGLEUSER_APP"]

    def _limits(self) -> cgroups.Limits:
        return cgroups.Limits(
            mem_limit=int(self.mem_limit or 0),
            mem_guarantee=int(self.mem_guarantee or 0),
            cpu_limit=float(self.cpu_limit or 0),
            cpu_guarantee=float(self.cpu_guarantee or 0),
            pids_limit=self.pids_limit,
        )

    # --- limits ----------------------------------------------------------------

    def systemd_available(self) -> bool:
        # the test systemd itself uses (sd_booted): is systemd the running init?
        return os.path.isdir("/run/systemd/system") and shutil.which(self.systemd_run) is not None

    def prepare_limits(self) -> list[str]:
        """Set up the cgroup for the next start; return a command prefix (v2) or []."""
        self.cgroup_record = {}
        self._join_procs = []
        self._groups_only_preexec = False
        leaf = cgroups.leaf_name(self.user.name, self.name)
        limits = self._limits()

        if self.cgroup_mode == "v1":
            ready, failed = cgroups.v1_setup(self.cgroup_v1_root, self.cgroup_parent, leaf, limits)
            for controller, reason in failed.items():
                self.log.warning(
                    "No %s limit for %s: cannot set up its cgroup (%s); starting it anyway",
                    controller,
                    self._log_name,
                    reason,
                )
            if ready:
                self.cgroup_record = {"mode": "v1", "dirs": {c: str(d) for c, d in ready.items()}}
                self._join_procs = [str(d / "cgroup.procs") for d in ready.values()]
            return []

        if self.cgroup_mode == "v2-systemd":
            if not self.systemd_available():
                self.log.warning(
                    "No limits for %s: systemd is not running or %s is missing; starting it anyway",
                    self._log_name,
                    self.systemd_run,
                )
                return []
            try:
                gid = pwd.getpwnam(self.user.name).pw_gid
            except KeyError:
                self.log.warning("No limits for %s: no Linux user %s", self._log_name, self.user.name)
                return []
            unit = cgroups.scope_unit_name(leaf)
            slice_ = cgroups.slice_name(self.cgroup_parent)
            self.cgroup_record = {"mode": "v2-systemd", "unit": unit, "slice": slice_}
            self._groups_only_preexec = True
            return cgroups.systemd_run_prefix(
                slice_=slice_, unit=unit, user=self.user.name, gid=gid, limits=limits, systemd_run=self.systemd_run
            )
        return []

    def make_preexec_fn(self, name: str) -> Callable[[], None]:
        enter_private_shm = private_shm.private_shm_fn(int(self.mem_limit or 0))
        join_devices = gpus.v1_join_fn(self._gpu_join) if self._gpu_join else None
        switch_user = self._switch_user_fn(name)

        def preexec() -> None:
            enter_private_shm()  # as root, like joining the cgroups
            if join_devices is not None:
                join_devices()
            switch_user()

        return preexec

    def _switch_user_fn(self, name: str) -> Callable[[], None]:
        if self._groups_only_preexec:
            return _groups_preexec(name)
        drop_privileges: Callable[[], None] = super().make_preexec_fn(name)
        if not self._join_procs:
            return drop_privileges
        join = cgroups.v1_join_fn(self._join_procs)

        def preexec() -> None:
            join()
            drop_privileges()

        return preexec

    # --- lifecycle -------------------------------------------------------------

    async def start(self) -> Any:
        self.claim_gpus(self.apply_profile())
        configured_cmd: list[str] = list(self.cmd)
        try:
            uid = self.prepare_socket()
            prefix = self.prepare_limits()
            self.limit_gpu_access()
            if prefix:
                self.cmd = prefix + configured_cmd
            await super().start()
        except BaseException:
            self.release_gpus()
            raise
        finally:
            self.cmd = configured_cmd
        pinned = await self.wait_for_socket(uid)
        self.socket_path = str(pinned)
        return server_socket.socket_url(pinned)

    async def stop(self, now: bool = False) -> None:
        record = dict(self.cgroup_record)
        await super().stop(now=now)
        self.release_socket()
        self.release_gpus()
        if record:
            await self.release_cgroup(record)

    # --- GPUs (gpus.py) ----------------------------------------------------------

    def _gpu_key(self) -> str:
        return cgroups.leaf_name(self.user.name, self.name)

    def claim_gpus(self, profile: Profile | None) -> None:
        """Take the profile's GPUs from the hub's ledger and plan the device rules; refuse (503) when it cannot."""
        self._gpu_join = ""
        self._gpu_denials = []
        machine = gpus.machine_gpus(self.gpu_dev_dir)
        wanted = profile.gpus if profile else 0
        self.gpu_ids = []
        if not machine and not wanted:
            return  # no GPUs asked for and none to keep from the server
        name = profile.name if profile else ""
        try:
            self.gpu_ids = list(gpus.LEDGER.claim(self._gpu_key(), name, wanted, machine))
            if self.cgroup_mode != "v1":
                raise gpus.GpuRefused(
                    f"cgroup mode {self.cgroup_mode} cannot limit a server's GPU access "
                    "(only cgroup v1's devices controller can here)"
                )
            gpus.require_devices_controller(self.cgroup_v1_root)
        except gpus.GpuRefused as e:
            self.release_gpus()
            if not wanted:
                self.log.warning("%s may use every GPU: %s; starting it anyway", self._log_name, e)
                return
            self.log.warning("Refusing to start %s: %s", self._log_name, e)
            raise refusal(503, f"cannot start a server with GPUs: {e}") from None
        uvm = gpus.char_major("nvidia-uvm", self.gpu_proc_devices)
        self._gpu_denials = gpus.device_denials(machine, self.gpu_ids, uvm)

    def limit_gpu_access(self) -> None:
        """Write the planned device rules into the server's v1 devices group (after prepare_limits)."""
        if not self._gpu_denials:
            return
        try:
            directory = gpus.v1_devices_setup(
                self.cgroup_v1_root, self.cgroup_parent, self._gpu_key(), self._gpu_denials
            )
        except gpus.GpuRefused as e:
            if self.gpu_ids:
                self.log.warning("Refusing to start %s: %s", self._log_name, e)
                raise refusal(503, f"cannot start a server with GPUs: {e}") from None
            self.log.warning("%s may use every GPU: %s; starting it anyway", self._log_name, e)
            return
        record = dict(self.cgroup_record) or {"mode": "v1", "dirs": {}}
        record["dirs"] = {**record.get("dirs", {}), "devices": str(directory)}
        self.cgroup_record = record
        self._gpu_join = str(directory / "cgroup.procs")

    def release_gpus(self) -> None:
        gpus.LEDGER.release(self._gpu_key())
        self.gpu_ids = []

    # --- the server's socket -------------------------------------------------------

    def prepare_socket(self) -> int:
        """Make the user's socket folder; return the uid the socket must belong to."""
        if not self.sockets_dir:
            raise web.HTTPError(500, "AtriumSpawner.sockets_dir is not set: refusing to start a server on a TCP port")
        try:
            entry = pwd.getpwnam(self.user.name)
            path = server_socket.prepare(self.sockets_dir, self.user.name, entry.pw_uid, entry.pw_gid, self.name)
        except (KeyError, OSError, server_socket.SocketRefused) as e:
            self.log.error("Cannot start %s: no socket folder: %s", self._log_name, e)
            raise web.HTTPError(500, "%s", f"cannot make the server's socket folder: {e}") from None
        self.user_socket = str(path)
        self.socket_path = ""
        # jupyter-server takes --sock only with its default port, which it then never binds
        self.port = server_socket.JUPYTER_DEFAULT_PORT
        return entry.pw_uid

    def get_args(self) -> list[str]:
        args: list[str] = super().get_args()
        return [*args, f"--ServerApp.sock={self.user_socket}", "--ServerApp.sock_mode=0600"]

    async def wait_for_socket(self, uid: int) -> Any:
        """Wait until the server made its socket, then pin and check it (start_timeout bounds this)."""
        while True:
            try:
                pinned = server_socket.pin(Path(self.user_socket), self.sockets_dir, uid)
            except server_socket.SocketRefused as e:
                self.log.error("Refusing %s: %s", self._log_name, e)
                raise web.HTTPError(500, "%s", f"the server's socket is not its own: {e}") from None
            if pinned is not None:
                return pinned
            if self.proc is not None and self.proc.poll() is not None:
                raise web.HTTPError(500, "%s", f"the server exited ({self.proc.returncode}) before it listened")
            await asyncio.sleep(0.1)

    def release_socket(self) -> None:
        server_socket.release(self.socket_path, self.user_socket)
        self.socket_path = ""

    # The hub keeps a server's address as proto/ip/port, which cannot hold a socket
    # path: every access to the server (readiness poll, proxy route, route checks
    # after a hub restart) goes through this property, which points it at the
    # pinned socket recorded in the spawner state.
    def _get_server(self) -> Any:
        server = Spawner.server.fget(self)
        if server is not None and self.socket_path and server.proto == "http+unix":
            url = server_socket.socket_url(self.socket_path)
            if server.host != url:
                server.connect_url = url
        return server

    server = property(_get_server, Spawner.server.fset)

    async def release_cgroup(self, record: dict[str, Any]) -> None:
        """Kill what the server left in its cgroup and remove the group."""
        if record.get("mode") == "v1":
            dirs = [Path(d) for d in record.get("dirs", {}).values()]
            for _ in range(20):
                alive = [pid for pid in sorted({p for d in dirs for p in cgroups.v1_members(d)}) if _kill(pid)]
                if not alive:
                    break
                await asyncio.sleep(0.1)
            for d in dirs:
                if not cgroups.v1_remove(d) and d.exists():
                    self.log.warning("Could not remove the cgroup %s of %s", d, self._log_name)
        elif record.get("mode") == "v2-systemd" and record.get("unit"):
            try:
                proc = await asyncio.create_subprocess_exec(
                    *cgroups.scope_stop_command(record["unit"], self.systemctl),
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=asyncio.subprocess.DEVNULL,
                )
                await proc.wait()
            except OSError as e:
                self.log.debug("Could not stop %s: %s", record["unit"], e)

    # --- state -------------------------------------------------------------------

    def get_state(self) -> dict[str, Any]:
        state: dict[str, Any] = super().get_state()
        if self.cgroup_record:
            state[STATE_CGROUP] = dict(self.cgroup_record)
        if self.socket_path:
            state[STATE_SOCKET] = {"pinned": self.socket_path, "path": self.user_socket}
        if self.gpu_ids:
            state[STATE_GPUS] = list(self.gpu_ids)
        return state

    def load_state(self, state: dict[str, Any]) -> None:
        super().load_state(state)
        self.cgroup_record = dict(state.get(STATE_CGROUP) or {})
        sock = state.get(STATE_SOCKET) or {}
        self.socket_path = sock.get("pinned", "")
        self.user_socket = sock.get("path", "")
        # a server still running after a hub restart keeps its GPUs in the ledger
        self.gpu_ids = [int(g) for g in state.get(STATE_GPUS) or []]
        gpus.LEDGER.restore(self._gpu_key(), self.gpu_ids)

    def clear_state(self) -> None:
        super().clear_state()
        self.cgroup_record = {}
        self.release_gpus()
        # the server is gone: its pinned link goes too (a later stop finds nothing)
        self.release_socket()

    # --- environment -------------------------------------------------------------

    def user_env(self, env: dict[str, str]) -> dict[str, str]:
        name = self.user.name
        home = self.user_homes.get(name, "")
        shell = self.user_shells.get(name, "")
        if not home or not shell:
            try:
                entry = pwd.getpwnam(name)
            except KeyError:
                pass
            else:
                home = home or entry.pw_dir
                shell = shell or entry.pw_shell
        env["USER"] = name
        if home:
            env["HOME"] = home
        if shell:
            env["SHELL"] = shell
        return env

    def get_env(self) -> dict[str, str]:
        env: dict[str, str] = super().get_env()
        base = self.environment.get("PATH") if isinstance(self.environment.get("PATH"), str) else None
        env["PATH"] = ":".join([*self.path_prepend, base or self.base_path])
        if self.kernels_dir:
            # the environment service keeps <kernels_dir>/<user>/kernels/* in line with
            # what the user may use; Jupyter lists it on every request
            mine = os.path.join(self.kernels_dir, self.user.name)
            env["JUPYTER_PATH"] = ":".join(p for p in (mine, env.get("JUPYTER_PATH", "")) if p)
        env.update(gpus.gpu_env(self.gpu_ids))
        return env
