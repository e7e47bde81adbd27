"""Per-user Dask limits over all of a user's clusters, for any dask-gateway backend
built on its database base class (the local processes' and the pods' alike).

What must stay true:
- a new cluster is refused when the user already runs `max_clusters`, or when its
  scheduler's memory would break `max_memory`; one request is decided at a time, so
  two at once cannot both pass;
- a scale request that would break `max_workers`, `max_cores` or `max_memory`
  (counting the user's other clusters and this cluster's scheduler) is refused with
  the limit named, and adaptive scaling is capped at what the limits leave.
"""

from __future__ import annotations

import asyncio
from typing import Any

from dask_gateway_server.backends.base import PublicException

from .dask_options import GatewaySettings, Usage, limit_problem, new_cluster_problem, usage_of


class UserLimitsMixin:
    """Mixed in before a DBBackendBase subclass, which gives `db` and the two methods below."""

    db: Any
    _starting: asyncio.Lock | None = None

    def _settings(self) -> GatewaySettings:
        raise NotImplementedError

    def _start_lock(self) -> asyncio.Lock:
        if self._starting is None:
            self._starting = asyncio.Lock()
        return self._starting

    def _usage_except(self, username: str, cluster_name: str) -> Usage:
        """What the user's active clusters other than `cluster_name` use, schedulers included."""
        rows = []
        for c in self.db.list_clusters(username=username):
            if c.name == cluster_name:
                continue
            rows.append((int(c.count), float(c.config.get("worker_cores", 1)), int(c.config.get("worker_memory", 0))))
        return usage_of(rows, self._settings().scheduler_memory)

    async def start_cluster(self, user: Any, cluster_options: Any) -> str:
        async with self._start_lock():
            active = len(self.db.list_clusters(username=user.name))
            problem = new_cluster_problem(self._settings(), active, self._usage_except(user.name, ""))
            if problem:
                raise PublicException(f"New cluster refused: {problem}")
            name: str = await super().start_cluster(user, cluster_options)  # type: ignore[misc]
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
        await super().forward_message_to_scheduler(cluster, msg)  # type: ignore[misc]
