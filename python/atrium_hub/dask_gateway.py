"""dask-gateway-server for Atrium on this machine: a LocalBackend that puts every
scheduler and worker in a cgroup and enforces the per-user limits across all of a
user's clusters (the options and limits themselves are dask_options.py's), and the
traitlets config applied from the settings.

What must stay true:
- clusters run as the requesting Linux user (LocalBackend), with their groups;
- a user is offered only the environments they may use, and a request beyond the
  per-user limits is refused with the configured limit in the message; the limits
  count every cluster's scheduler (memory) and the number of clusters;
- every worker process is inside a memory-limited cgroup before it execs, with a
  pids limit where the pids controller is mounted, and its own /dev/shm;
- root never follows a link in a cluster's work folder (which is the user's): it
  makes folders and files there only through folders opened with O_NOFOLLOW, and
  removes the folder with shutil.rmtree, which does not follow links on Linux.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dask_gateway_server.backends.local import LocalBackend

from . import cgroups, dask_dashboards, nofollow, private_shm
from .dask_limits import UserLimitsMixin
from .dask_options import GatewaySettings, cluster_options, load_settings_from_env
from .secretfiles import read_secret

# --- the backend -----------------------------------------------------------------------


class AtriumLocalBackend(UserLimitsMixin, LocalBackend):
    """LocalBackend with per-process cgroups and per-user limits."""

    atrium: GatewaySettings | None = None
    _next_cgroup: list[str] | None = None
    _next_memory = 0
    _cgroups: dict[int, list[Path]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cgroups = {}

    def _settings(self) -> GatewaySettings:
        if self.atrium is None:
            self.atrium = load_settings_from_env()
        return self.atrium

    # working directory ----------------------------------------------------------------
    # Upstream makes <clusters_dir>/<name>/{.certs,logs} as root, chowns them by path
    # one after the other and later opens logs/<process>.log as root by path. The work
    # folder is the user's, so she can swap `logs` (or `.certs`, while it is being
    # handed over) for a link, and root then creates or chowns files where she points.
    # Here every step goes through folders opened without following links, and
    # ownership is handed over through those open folders.

    def setup_working_directory(self, cluster: Any) -> str:
        user = pwd.getpwnam(cluster.username)
        parent = self.clusters_directory or tempfile.mkdtemp(prefix="dask-clusters-")
        workdir = os.path.join(parent, cluster.name)
        owners = (0, user.pw_uid)
        with contextlib.ExitStack() as opened:
            top = _closing(opened, nofollow.open_trusted_dir(parent))
            work = _closing(opened, nofollow.make_dir_at(top, cluster.name, 0o700, owners))
            certs_name = os.path.basename(self.get_certs_directory(workdir))
            certs = _closing(opened, nofollow.make_dir_at(work, certs_name, 0o700, owners))
            logs_name = os.path.basename(self.get_logs_directory(workdir))
            logs = _closing(opened, nofollow.make_dir_at(work, logs_name, 0o700, owners))
            for path, data in zip(self._get_tls_paths(workdir), (cluster.tls_cert, cluster.tls_key), strict=True):
                fd = nofollow.create_file_at(certs, os.path.basename(path), 0o600, user.pw_uid, user.pw_gid)
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
            for fd in (certs, logs, work):
                os.fchown(fd, user.pw_uid, user.pw_gid)
        self.log.debug("Working directory %s for cluster %s created", workdir, cluster.name)
        return workdir

    def open_log(self, cluster: Any, name: str) -> int:
        """A new `logs/<name>.log` in the cluster's work folder, owned by the user, opened for writing."""
        user = pwd.getpwnam(cluster.username)
        workdir = os.path.normpath(cluster.state["workdir"])
        owners = (0, user.pw_uid)
        with contextlib.ExitStack() as opened:
            top = _closing(opened, nofollow.open_trusted_dir(os.path.dirname(workdir)))
            work = _closing(opened, nofollow.open_dir_at(top, os.path.basename(workdir), owners))
            logs_name = os.path.basename(self.get_logs_directory(workdir))
            logs = _closing(opened, nofollow.open_dir_at(work, logs_name, owners))
            return nofollow.create_file_at(logs, f"{name}.log", 0o600, user.pw_uid, user.pw_gid)

    async def spawn_logged(self, cluster: Any, cmd: list[str], env: dict[str, str], name: str) -> int:
        """Start one scheduler or worker as the user, its output in its own log (see open_log)."""
        preexec = self.make_preexec_fn(cluster)
        try:
            log = self.open_log(cluster, name)
        except OSError as e:
            self.log.warning("Not starting %s of cluster %s: its log: %s", name, cluster.name, e)
            raise
        try:
            proc = await asyncio.create_subprocess_exec(
                *cmd,
                preexec_fn=preexec,
                start_new_session=True,
                env=env,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )
        finally:
            os.close(log)
        return proc.pid

    # dashboards ---------------------------------------------------------------------

    def get_scheduler_command(self, cluster: Any) -> list[str]:
        cmd: list[str] = super().get_scheduler_command(cluster)
        block = self._settings().dashboard_ports
        if block is None:
            return cmd
        return dask_dashboards.scheduler_command(cmd, dask_dashboards.pick_port(*block))

    def get_worker_command(self, cluster: Any, worker_name: str, scheduler_address: str | None = None) -> list[str]:
        cmd: list[str] = super().get_worker_command(cluster, worker_name, scheduler_address)
        return dask_dashboards.worker_command(cmd)

    async def on_cluster_heartbeat(self, cluster_name: str, msg: dict[str, Any]) -> None:
        block = self._settings().dashboard_ports
        address = str(msg.get("dashboard_address") or "")
        if block is not None and address and not dask_dashboards.guarded(address, *block):
            # Never route to (or leave running) a dashboard other local users can reach.
            self.log.warning(
                "Stopping cluster %s: its dashboard listens on %s, outside the root-only ports %d-%d",
                cluster_name,
                address,
                *block,
            )
            await self.stop_cluster(cluster_name, failed=True)
            return
        await super().on_cluster_heartbeat(cluster_name, msg)

    # cgroups ------------------------------------------------------------------------

    def make_preexec_fn(self, cluster: Any) -> Callable[[], None]:
        drop_privileges = super().make_preexec_fn(cluster)
        join = cgroups.v1_join_fn(self._next_cgroup or [])
        enter_private_shm = private_shm.private_shm_fn(self._next_memory)

        def preexec() -> None:
            join()  # as root, before the uid changes
            enter_private_shm()
            drop_privileges()

        return preexec

    async def start_process(self, cluster: Any, cmd: list[str], env: dict[str, str], name: str) -> int:
        s = self._settings()
        dirs: list[Path] = []
        memory = int(cluster.config.worker_memory if name != "scheduler" else cluster.config.scheduler_memory)
        mode = cgroups.detect_mode(s.cgroup_v1_root) if s.cgroup_mode == "auto" else s.cgroup_mode
        if mode == "v1":
            cores = float(cluster.config.worker_cores if name != "scheduler" else cluster.config.scheduler_cores)
            leaf = f"{cluster.username}/{cluster.name}-{name}"
            ready, failed = cgroups.v1_setup(
                s.cgroup_v1_root,
                s.cgroup_parent,
                leaf,
                cgroups.Limits(mem_limit=memory, cpu_limit=cores, pids_limit=s.cgroup_pids_limit),
            )
            for controller, reason in failed.items():
                self.log.warning("No %s limit for %s of cluster %s: %s", controller, name, cluster.name, reason)
            dirs = list(ready.values())
        # make_preexec_fn reads this before spawn_logged's first await.
        self._next_cgroup = [str(d / "cgroup.procs") for d in dirs]
        self._next_memory = memory
        try:
            pid = await self.spawn_logged(cluster, cmd, env, name)
        finally:
            self._next_cgroup = None
            self._next_memory = 0
        self._cgroups[pid] = dirs
        return pid

    async def stop_process(self, pid: int) -> None:
        await super().stop_process(pid)
        for directory in self._cgroups.pop(pid, []):
            for member in cgroups.v1_members(directory):
                with contextlib.suppress(OSError):
                    os.kill(member, signal.SIGKILL)
            cgroups.v1_remove(directory)


def _closing(stack: contextlib.ExitStack, fd: int) -> int:
    stack.callback(os.close, fd)
    return fd


# --- applying to the traitlets config -------------------------------------------------


def load_firewall(path: str | None, nft: str | None = None) -> None:
    """Load the rule that keeps the web proxy for root; without it the gateway must not run.

    Deploy loads it too, but rules do not survive a reboot, and the gateway can
    start again (supervisor, systemd) without a deploy.
    """
    if not path:
        return
    nft = nft or shutil.which("nft", path="/usr/sbin:/sbin:/usr/bin:/bin") or "nft"
    try:
        result = subprocess.run([nft, "-f", path], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise SystemExit(f"atrium: cannot load {path} with {nft}: {e}; not starting the gateway") from e
    if result.returncode != 0:
        raise SystemExit(
            f"atrium: {nft} -f {path} failed ({result.stderr.strip()}); "
            "not starting the gateway: its web proxy would be open to every local user"
        )


def apply(c: Any, s: GatewaySettings) -> None:
    """The gateway's traitlets config: clusters as pods where the settings say so, else as local processes."""
    apply_common(c, s)
    if s.pods is not None:
        # imported only here: the kubernetes client is needed only where clusters are pods
        from .dask_pods import AtriumPodBackend

        c.DaskGateway.backend_class = AtriumPodBackend
        c.Backend.cluster_options = cluster_options(s, whole_cores=False)
        AtriumPodBackend.atrium = s
        return
    load_firewall(s.firewall_file)
    c.DaskGateway.backend_class = AtriumLocalBackend
    c.LocalBackend.clusters_directory = s.clusters_dir
    c.Backend.cluster_options = cluster_options(s)
    # Per-user limits are enforced across all of a user's clusters by
    # AtriumLocalBackend (with an error naming the limit), not per cluster.
    AtriumLocalBackend.atrium = s


def apply_common(c: Any, s: GatewaySettings) -> None:
    """What every backend shares: the hub as authenticator, the proxy, the database, idle clusters."""
    c.DaskGateway.address = s.address
    c.DaskGateway.authenticator_class = "dask_gateway_server.auth.JupyterHubAuthenticator"
    c.JupyterHubAuthenticator.jupyterhub_api_url = s.hub_api_url
    c.JupyterHubAuthenticator.jupyterhub_api_token = read_secret(s.api_token_file, "dask-gateway's hub token")
    c.JupyterHubAuthenticator.jupyterhub_service_name = s.service_name
    c.Proxy.address = s.proxy_address
    c.Proxy.tcp_address = s.proxy_tcp_address
    c.Proxy.prefix = s.proxy_prefix
    c.DBBackendBase.db_url = s.db_url
    c.DBBackendBase.db_encrypt_keys = [read_secret(s.db_key_file, "dask-gateway's database key")]
    c.DBBackendBase.stop_clusters_on_shutdown = False
    if s.api_url:
        c.DBBackendBase.api_url = s.api_url
    c.ClusterConfig.idle_timeout = s.idle_timeout
