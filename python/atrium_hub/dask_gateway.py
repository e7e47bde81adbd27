"""dask-gateway-server for Atrium: configuration from the rendered JSON, and a
LocalBackend that puts every scheduler and worker in a cgroup and enforces the
per-user limits across all of a user's clusters.

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
import math
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dask_gateway_server.backends.base import PublicException
from dask_gateway_server.backends.local import LocalBackend
from dask_gateway_server.options import Options, Select

from . import cgroups, contract, dask_dashboards, nofollow, private_shm
from .secretfiles import read_secret

CONFIG_ENV = "ATRIUM_GATEWAY_CONFIG"
WHAT = "invalid Atrium dask-gateway config"


@dataclass(frozen=True)
class WorkerProfile:
    name: str
    cores: float
    memory: int
    threads: int


@dataclass(frozen=True)
class Environment:
    name: str
    bin: str
    #: None: everyone; otherwise the users who may use it.
    users: tuple[str, ...] | None


@dataclass(frozen=True)
class GatewaySettings:
    project: str
    hub_api_url: str
    service_name: str
    api_token_file: str
    db_url: str
    db_key_file: str
    address: str
    proxy_address: str
    proxy_tcp_address: str
    proxy_prefix: str
    clusters_dir: str
    worker_profiles: tuple[WorkerProfile, ...]
    environments: tuple[Environment, ...]
    max_workers: int
    max_cores: float
    max_memory: int
    max_clusters: int
    scheduler_memory: int
    idle_timeout: float
    cgroup_mode: str
    cgroup_v1_root: str
    cgroup_parent: str
    #: Most tasks in each scheduler's and worker's cgroup; 0: no limit.
    cgroup_pids_limit: int = 0
    #: Managed environments ([{name, bin, users}]) written by Atrium's environment
    #: service; read at each cluster request, so new ones need no gateway restart.
    environments_file: str | None = None
    #: Where schedulers reach the gateway's API (not the root-only web proxy).
    api_url: str | None = None
    #: nft script that lets only root reach the web proxy (loaded at each start).
    firewall_file: str | None = None
    #: First and last port of the block schedulers' dashboards listen on (root-only).
    dashboard_ports: tuple[int, int] | None = None


def parse_settings(data: Any, source: str = "<gateway config>") -> GatewaySettings:
    """The rendered JSON as typed settings; ContractError lists every way it breaks its contract."""
    d = contract.check("dask-gateway", data, source, WHAT)
    limits, proxy, cgroup = d["limits"], d["proxy"], d["cgroup"]
    return GatewaySettings(
        **contract.pick(d, "project", "hub_api_url", "service_name", "api_token_file", "db_url", "db_key_file"),
        address=d["address"],
        proxy_address=proxy["address"],
        proxy_tcp_address=proxy["tcp_address"],
        proxy_prefix=proxy["prefix"],
        clusters_dir=d["clusters_dir"],
        worker_profiles=tuple(
            WorkerProfile(p["name"], float(p["cores"]), p["memory"], p["threads"]) for p in d["worker_profiles"]
        ),
        environments=_environments(d["environments"]),
        max_workers=limits["max_workers"],
        max_cores=float(limits["max_cores"]),
        max_memory=limits["max_memory"],
        max_clusters=limits["max_clusters"],
        scheduler_memory=d["scheduler_memory"],
        idle_timeout=float(d["idle_timeout"]),
        cgroup_mode=cgroup["mode"],
        cgroup_v1_root=cgroup["v1_root"],
        cgroup_parent=cgroup["parent"],
        cgroup_pids_limit=cgroup.get("pids_limit", 0),
        environments_file=d.get("environments_file"),
        api_url=d.get("api_url"),
        firewall_file=d.get("firewall_file"),
        dashboard_ports=None
        if d.get("dashboard_ports") is None
        else (d["dashboard_ports"][0], d["dashboard_ports"][1]),
    )


def _environments(items: list[dict[str, Any]]) -> tuple[Environment, ...]:
    return tuple(Environment(e["name"], e["bin"], None if e["users"] is None else tuple(e["users"])) for e in items)


def load_settings_from_env() -> GatewaySettings:
    path = os.environ.get(CONFIG_ENV)
    if not path:
        raise SystemExit(f"{CONFIG_ENV} is not set: it must name the rendered dask-gateway JSON")
    try:
        return parse_settings(contract.read_json(path, WHAT), path)
    except contract.ContractError as e:
        raise SystemExit(str(e)) from None


def load_managed_environments(path: str | None) -> tuple[Environment, ...]:
    """The environment service's list; empty when missing, unreadable or invalid (never fatal)."""
    if not path:
        return ()
    try:
        return _environments(contract.load("dask-environments", path))
    except contract.ContractError:
        return ()


def allowed_environments(settings: GatewaySettings, user: str) -> list[Environment]:
    every = (*settings.environments, *load_managed_environments(settings.environments_file))
    return [e for e in every if e.users is None or user in e.users]


def format_gib(n: float) -> str:
    return f"{n / 2**30:g} GiB"


# --- limits across a user's clusters -------------------------------------------------


@dataclass(frozen=True)
class Usage:
    workers: int
    cores: float
    memory: int


def usage_of(clusters: list[tuple[int, float, int]], scheduler_memory: int = 0) -> Usage:
    """Sum of (worker count, cores per worker, memory per worker) over clusters, each
    cluster's scheduler counted with `scheduler_memory`."""
    return Usage(
        workers=sum(n for n, _, _ in clusters),
        cores=sum(n * c for n, c, _ in clusters),
        memory=sum(n * m + scheduler_memory for n, _, m in clusters),
    )


def new_cluster_problem(settings: GatewaySettings, active: int, used: Usage) -> str | None:
    """Why a user who runs `active` clusters using `used` may not start another one."""
    if active >= settings.max_clusters:
        return (
            f"you already run {active} Dask clusters, your limit of {settings.max_clusters}; "
            "shut one down first (cluster.shutdown()); dask.limits.max_clusters in atrium.yaml"
        )
    if used.memory + settings.scheduler_memory > settings.max_memory:
        return (
            f"a new cluster's scheduler needs {format_gib(settings.scheduler_memory)} and would exceed your limit "
            f"of {format_gib(settings.max_memory)} (your clusters use {format_gib(used.memory)}); "
            "dask.limits.max_memory in atrium.yaml"
        )
    return None


def limit_problem(settings: GatewaySettings, others: Usage, count: int, cores: float, memory: int) -> str | None:
    """Why scaling one cluster to `count` workers of this size would break a per-user limit."""
    if others.workers + count > settings.max_workers:
        return (
            f"{count} workers would exceed your limit of {settings.max_workers} workers "
            f"(your other clusters use {others.workers}); dask.limits.max_workers in atrium.yaml"
        )
    if others.cores + count * cores > settings.max_cores:
        return (
            f"{count} workers of {cores:g} cores would exceed your limit of {settings.max_cores:g} cores "
            f"(your other clusters use {others.cores:g}); dask.limits.max_cores in atrium.yaml"
        )
    if others.memory + count * memory > settings.max_memory:
        return (
            f"{count} workers of {format_gib(memory)} would exceed your limit of "
            f"{format_gib(settings.max_memory)} (your other clusters and this cluster's scheduler use "
            f"{format_gib(others.memory)}); "
            "dask.limits.max_memory in atrium.yaml"
        )
    return None


# --- cluster options -------------------------------------------------------------------


def cluster_options(settings: GatewaySettings) -> Callable[[Any], Options]:
    """The options a user may pick: worker profile and environment (theirs only)."""

    def for_user(user: Any) -> Options:
        envs = allowed_environments(settings, user.name)
        profiles = settings.worker_profiles

        def handler(options: Mapping[str, Any], user: Any) -> dict[str, Any]:
            profile = next(p for p in profiles if p.name == options["worker_profile"])
            env = next(e for e in envs if e.name == options["environment"])
            if profile.memory > settings.max_memory or profile.cores > settings.max_cores:
                raise ValueError(f"worker profile {profile.name} is larger than your per-user limits")
            # The scheduler always runs from the platform's default env, which has
            # dask-gateway's scheduler preload; managed envs hold distributed at the
            # same version, so their workers match it.
            scheduler = os.path.join(settings.environments[0].bin if settings.environments else env.bin, "dask")
            return {
                # LocalBackend counts whole cores; a fractional profile gets the next whole one.
                "worker_cores": max(1, math.ceil(profile.cores)),
                "worker_memory": profile.memory,
                "worker_threads": profile.threads,
                "scheduler_cmd": [scheduler, "scheduler"],
                "scheduler_memory": settings.scheduler_memory,
                "worker_cmd": [os.path.join(env.bin, "dask"), "worker"],
                "environment": {"PATH": f"{env.bin}:/usr/local/bin:/usr/bin:/bin"},
                "idle_timeout": settings.idle_timeout,
            }

        return Options(
            Select(
                "worker_profile",
                [p.name for p in profiles],
                default=profiles[0].name,
                label="Worker size",
            ),
            Select(
                "environment",
                [e.name for e in envs],
                default=envs[0].name if envs else "default",
                label="Environment",
            ),
            handler=handler,
        )

    return for_user


# --- the backend -----------------------------------------------------------------------


class AtriumLocalBackend(LocalBackend):
    """LocalBackend with per-process cgroups and per-user limits."""

    atrium: GatewaySettings | None = None
    _next_cgroup: list[str] | None = None
    _next_memory = 0
    _cgroups: dict[int, list[Path]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cgroups = {}
        # One cluster request at a time, so two at once cannot both pass the limits.
        self._starting = asyncio.Lock()

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

    # limits -------------------------------------------------------------------------

    def _usage_except(self, username: str, cluster_name: str) -> Usage:
        """What the user's active clusters other than `cluster_name` use, schedulers included."""
        rows = []
        for c in self.db.list_clusters(username=username):
            if c.name == cluster_name:
                continue
            rows.append((int(c.count), float(c.config.get("worker_cores", 1)), int(c.config.get("worker_memory", 0))))
        return usage_of(rows, self._settings().scheduler_memory)

    async def start_cluster(self, user: Any, cluster_options: Any) -> str:
        async with self._starting:
            active = len(self.db.list_clusters(username=user.name))
            problem = new_cluster_problem(self._settings(), active, self._usage_except(user.name, ""))
            if problem:
                raise PublicException(f"New cluster refused: {problem}")
            name: str = await super().start_cluster(user, cluster_options)
            return name

    async def forward_message_to_scheduler(self, cluster: Any, msg: dict[str, Any]) -> None:
        s = self._settings()
        cores = float(cluster.config.get("worker_cores", 1))
        memory = int(cluster.config.get("worker_memory", 0))
        used = self._usage_except(cluster.username, cluster.name)
        # This cluster's own scheduler counts too.
        others = Usage(used.workers, used.cores, used.memory + s.scheduler_memory)
        if msg.get("op") == "scale":
            problem = limit_problem(s, others, int(msg["count"]), cores, memory)
            if problem:
                raise PublicException(f"Scale request refused: {problem}")
        elif msg.get("op") == "adapt":
            # Adaptive scaling may not grow past what the limits leave for this cluster.
            fits = 0
            while limit_problem(s, others, fits + 1, cores, memory) is None:
                fits += 1
            maximum = msg.get("maximum")
            msg = {**msg, "maximum": fits if maximum is None else min(int(maximum), fits)}
        await super().forward_message_to_scheduler(cluster, msg)


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
    load_firewall(s.firewall_file)
    c.DaskGateway.address = s.address
    c.DaskGateway.backend_class = AtriumLocalBackend
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
    c.LocalBackend.clusters_directory = s.clusters_dir
    if s.api_url:
        c.DBBackendBase.api_url = s.api_url
    c.Backend.cluster_options = cluster_options(s)
    c.ClusterConfig.idle_timeout = s.idle_timeout
    # Per-user limits are enforced across all of a user's clusters by
    # AtriumLocalBackend (with an error naming the limit), not per cluster.
    AtriumLocalBackend.atrium = s
