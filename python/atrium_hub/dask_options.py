"""Dask cluster options and per-user limits, independent of where clusters run.

The gateway's settings read from the rendered JSON (checked against its contract),
the options a user is offered (worker profile, managed environment: only those they
may use), and the limits over all of a user's clusters (workers, cores, memory with
each scheduler counted, number of clusters), refused with the limit named. The local
backend (dask_gateway.py) uses them; a cluster backend takes them unchanged.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from dask_gateway_server.options import Options, Select

from . import contract

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
    worker_profiles: tuple[WorkerProfile, ...]
    environments: tuple[Environment, ...]
    max_workers: int
    max_cores: float
    max_memory: int
    max_clusters: int
    scheduler_memory: int
    idle_timeout: float
    #: Processes on this machine (the local backend): their work folders and cgroups.
    clusters_dir: str = ""
    cgroup_mode: str = "off"
    cgroup_v1_root: str = "/sys/fs/cgroup"
    cgroup_parent: str = ""
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
    #: Clusters as pods (the kubernetes target): the contract's `pods` section.
    pods: Mapping[str, Any] | None = None


def parse_settings(data: Any, source: str = "<gateway config>") -> GatewaySettings:
    """The rendered JSON as typed settings; ContractError lists every way it breaks its contract."""
    d = contract.check("dask-gateway", data, source, WHAT)
    limits, proxy = d["limits"], d["proxy"]
    cgroup = d.get("cgroup") or {"mode": "off", "v1_root": "/sys/fs/cgroup", "parent": ""}
    if (d.get("pods") is None) != ("clusters_dir" in d and "cgroup" in d):
        problem = contract.Problem("", "needs either pods, or clusters_dir and cgroup (processes on this machine)")
        raise contract.ContractError(source, [problem], WHAT)
    return GatewaySettings(
        **contract.pick(d, "project", "hub_api_url", "service_name", "api_token_file", "db_url", "db_key_file"),
        address=d["address"],
        proxy_address=proxy["address"],
        proxy_tcp_address=proxy["tcp_address"],
        proxy_prefix=proxy["prefix"],
        clusters_dir=d.get("clusters_dir", ""),
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
        pods=d.get("pods"),
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


def cluster_options(settings: GatewaySettings, whole_cores: bool = True) -> Callable[[Any], Options]:
    """The options a user may pick: worker profile and environment (theirs only).

    `whole_cores`: processes count whole cores, so a fractional profile gets the next
    whole one; a pod's CPU limit takes the profile's cores as they are.
    """

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
                "worker_cores": max(1, math.ceil(profile.cores)) if whole_cores else profile.cores,
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
