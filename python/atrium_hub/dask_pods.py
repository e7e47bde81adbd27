"""dask-gateway-server's clusters as pods (the kubernetes target): a backend on the
gateway's own database base class, which keeps every cluster in its database, so
clusters outlive a restart of the gateway; the per-user limits are dask_limits.py's.

What must stay true:
- a scheduler and each worker are pods in the platform's namespace running as the
  cluster's user: their uid, own gid and groups from the settings, never root, no
  privilege escalation, every capability dropped, the runtime's seccomp profile, no
  service account token; a user the settings do not name gets no cluster;
- they mount what the user's server mounts (home, their groups' folders, the
  environments read-only, the passwd and group files) and run under umask 0002;
- a worker has its profile's cores (fractions too: a CPU quantity, not a thread
  count) and memory as requests and limits, and its profile's node selector and
  tolerations;
- the cluster's TLS certificate and key and its gateway API token are in a Secret of
  its own, owned by the scheduler's pod (as the workers are), so nothing is left when
  the scheduler goes; pods read them as environment variables from that Secret (dask
  takes PEM text in its TLS settings), never as a value in the pod spec, and never as a
  file a root-owned volume would keep from the user's uid;
- the scheduler listens on fixed ports (the network policies name them), and no
  scheduler or worker serves a dashboard (it would have no login);
- each cluster has a NetworkPolicy of its own, owned by its scheduler's pod: only the
  cluster's own pods reach its scheduler and workers (the rendered policies let Dask
  pods in from the gateway only), so no user's code reaches another's cluster.
"""

from __future__ import annotations

import base64
import math
from collections.abc import AsyncIterator, Mapping
from typing import Any

from dask_gateway_server.backends.base import ClusterConfig, PublicException
from dask_gateway_server.backends.db_base import DBBackendBase
from kubernetes_asyncio import client, config
from kubernetes_asyncio.client.rest import ApiException
from traitlets import Float, Type

from .dask_limits import UserLimitsMixin
from .dask_options import GatewaySettings, load_settings_from_env
from .kube_spawner import mount, volume

#: The cluster's credentials in its Secret: each environment variable that carries one, and its key.
SECRET_ENV = {
    "DASK_GATEWAY_API_TOKEN": "api-token",
    "DASK_DISTRIBUTED__COMM__TLS__CA_FILE": "dask.crt",
    "DASK_DISTRIBUTED__COMM__TLS__SCHEDULER__CERT": "dask.crt",
    "DASK_DISTRIBUTED__COMM__TLS__SCHEDULER__KEY": "dask.pem",
    "DASK_DISTRIBUTED__COMM__TLS__WORKER__CERT": "dask.crt",
    "DASK_DISTRIBUTED__COMM__TLS__WORKER__KEY": "dask.pem",
}
SCHEDULER_PORT = 8786
SCHEDULER_API_PORT = 8788
CLUSTER_LABEL = "atrium.dev/dask-cluster"
USER_LABEL = "atrium.dev/user"
#: Scheduler and worker pods keep running when the gateway restarts; these phases are alive.
ALIVE = ("Pending", "Running")


def without_dashboard(cmd: list[str]) -> list[str]:
    """A scheduler or worker command upstream builds, with no dashboard: a dashboard has no
    login of its own, and on a cluster no guard stands before it yet."""
    out = list(cmd)
    if "--dashboard-address" in out:
        at = out.index("--dashboard-address")
        out[at : at + 2] = ["--no-dashboard"]
    return out


def fixed_ports(cmd: list[str]) -> list[str]:
    """The scheduler command upstream builds, with its ports fixed instead of picked, and no dashboard."""
    out = without_dashboard(cmd)
    for flag, value in (
        ("--port", str(SCHEDULER_PORT)),
        ("--dg-api-address", f"0.0.0.0:{SCHEDULER_API_PORT}"),
    ):
        if flag in out:
            out[out.index(flag) + 1] = value
    return out


def quantity_cpu(cores: float) -> str:
    """Cores as a CPU quantity in millicores (0.5 -> 500m)."""
    return f"{max(1, math.ceil(cores * 1000))}m"


class PodClusterConfig(ClusterConfig):
    """A cluster's settings where cores are a pod's CPU (0.2 cores is 200m), not whole processes' cores."""

    worker_cores = Float(1, min=0, help="CPU cores of a worker pod (its request and limit).", config=True)
    scheduler_cores = Float(1, min=0, help="CPU cores of the scheduler pod (its limit).", config=True)


class AtriumPodBackend(UserLimitsMixin, DBBackendBase):
    """Every scheduler and worker a pod, as its user."""

    cluster_config_class = Type(PodClusterConfig, klass=ClusterConfig, config=True)

    atrium: GatewaySettings | None = None
    default_host = "0.0.0.0"
    _api: Any = None
    _core: Any = None
    _networking: Any = None

    def _settings(self) -> GatewaySettings:
        if self.atrium is None:
            self.atrium = load_settings_from_env()
        return self.atrium

    def _pods(self) -> Mapping[str, Any]:
        pods = self._settings().pods
        if pods is None:
            raise RuntimeError("the gateway's settings have no pods section")
        return pods

    def _user(self, name: str) -> Mapping[str, Any]:
        users: list[Mapping[str, Any]] = self._pods()["users"]
        for u in users:
            if u["name"] == name:
                return u
        raise PublicException(f"{name} is not a user of this platform's file, so has no Dask clusters.")

    async def do_setup(self) -> None:
        config.load_incluster_config()  # type: ignore[no-untyped-call]
        self._api = client.ApiClient()
        self._core = client.CoreV1Api(self._api)
        self._networking = client.NetworkingV1Api(self._api)

    async def do_cleanup(self) -> None:
        if self._api is not None:
            await self._api.close()

    async def start_cluster(self, user: Any, cluster_options: Any) -> str:
        self._user(user.name)
        return await super().start_cluster(user, cluster_options)

    # pods -------------------------------------------------------------------------

    def get_scheduler_command(self, cluster: Any) -> list[str]:
        return fixed_ports(super().get_scheduler_command(cluster))

    def get_worker_command(self, cluster: Any, worker_name: str, scheduler_address: str | None = None) -> list[str]:
        return without_dashboard(super().get_worker_command(cluster, worker_name, scheduler_address))

    def _cluster_policy(self, cluster: Any) -> dict[str, Any]:
        """The cluster's pods let each other in (every port), nobody else's."""
        own = {"matchLabels": {CLUSTER_LABEL: cluster.name}}
        return {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": _secret_name(cluster), "labels": self._labels(cluster, "scheduler")},
            "spec": {"podSelector": own, "policyTypes": ["Ingress"], "ingress": [{"from": [{"podSelector": own}]}]},
        }

    def _labels(self, cluster: Any, role: str) -> dict[str, str]:
        pods = self._pods()
        base = pods["scheduler_labels"] if role == "scheduler" else pods["worker_labels"]
        return {**base, CLUSTER_LABEL: cluster.name, USER_LABEL: cluster.username}

    def _pod(
        self,
        cluster: Any,
        role: str,
        name: str,
        cmd: list[str],
        env: Mapping[str, str],
        resources: Mapping[str, Any],
        owner: Mapping[str, str] | None,
    ) -> dict[str, Any]:
        pods = self._pods()
        user = self._user(cluster.username)
        home = f"/home/{cluster.username}"
        environment = {**env, "HOME": home, "USER": cluster.username, "LOGNAME": cluster.username}
        placement: Mapping[str, Any] = {"node_selector": {}, "tolerations": []}
        if role == "worker":
            profile = cluster.options.get("worker_profile")
            placement = next((p for p in pods["worker_pools"] if p["name"] == profile), placement)
        metadata: dict[str, Any] = {"name": name, "labels": self._labels(cluster, role)}
        if owner is not None:
            metadata["ownerReferences"] = [{"apiVersion": "v1", "kind": "Pod", **owner}]
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": metadata,
            "spec": {
                "restartPolicy": "Never",
                "automountServiceAccountToken": False,
                "enableServiceLinks": False,
                "securityContext": {
                    "runAsUser": user["uid"],
                    "runAsGroup": user["gid"],
                    "supplementalGroups": list(user["supplemental_gids"]),
                    "runAsNonRoot": True,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "nodeSelector": dict(placement["node_selector"]),
                "tolerations": list(placement["tolerations"]),
                "containers": [
                    {
                        "name": role,
                        "image": pods["image"],
                        "imagePullPolicy": pods["image_pull_policy"],
                        "command": ["/bin/sh", "-c", f'umask {pods["umask"]} && exec "$@"', "sh", *cmd],
                        "workingDir": home,
                        "env": [_env_var(cluster, k, v) for k, v in sorted(environment.items())],
                        "resources": resources,
                        "securityContext": dict(pods["container_security_context"]),
                        "volumeMounts": [
                            *(mount(m) for m in pods["volume_mounts"]),
                            *(mount(m) for m in user["volume_mounts"]),
                        ],
                    }
                ],
                "volumes": [volume(v) for v in pods["volumes"]],
            },
        }

    async def do_start_cluster(self, cluster: Any) -> AsyncIterator[dict[str, Any]]:
        namespace = self._pods()["namespace"]
        name = f"dask-scheduler-{cluster.name}"
        memory = str(int(cluster.config.scheduler_memory))
        cores = float(self._pods()["scheduler_cores"])
        resources = {
            "requests": {"cpu": quantity_cpu(min(cores, 0.1)), "memory": memory},
            "limits": {"cpu": quantity_cpu(cores), "memory": memory},
        }
        cmd = self.get_scheduler_command(cluster)
        body = self._pod(cluster, "scheduler", name, cmd, self.get_scheduler_env(cluster), resources, None)
        yield {"pod": name}
        # the Secret first, so the pod starts at once; then the pod owns it
        secret = _secret_name(cluster)
        await self._core.create_namespaced_secret(
            namespace,
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": secret, "labels": self._labels(cluster, "scheduler")},
                "type": "Opaque",
                "data": {
                    "dask.crt": base64.b64encode(cluster.tls_cert).decode(),
                    "dask.pem": base64.b64encode(cluster.tls_key).decode(),
                    "api-token": base64.b64encode(cluster.token.encode()).decode(),
                },
            },
        )
        await self._networking.create_namespaced_network_policy(namespace, self._cluster_policy(cluster))
        created = await self._core.create_namespaced_pod(namespace, body)
        owner = {"name": name, "uid": created.metadata.uid}
        yield {"pod": name, "uid": created.metadata.uid}
        owned = {"metadata": {"ownerReferences": [{"apiVersion": "v1", "kind": "Pod", **owner}]}}
        await self._core.patch_namespaced_secret(secret, namespace, owned)
        await self._networking.patch_namespaced_network_policy(secret, namespace, owned)

    async def do_stop_cluster(self, cluster: Any) -> None:
        namespace = self._pods()["namespace"]
        for worker in await self._pods_of(cluster.name, "worker"):
            await self._delete_pod(namespace, worker)
        await self._delete_pod(namespace, cluster.state.get("pod") or f"dask-scheduler-{cluster.name}")
        for delete in (self._core.delete_namespaced_secret, self._networking.delete_namespaced_network_policy):
            try:
                await delete(_secret_name(cluster), namespace)
            except ApiException as e:
                if e.status != 404:
                    raise

    async def do_check_clusters(self, clusters: list[Any]) -> list[bool]:
        phases = await self._phases("scheduler")
        alive = [phases.get(c.state.get("pod", ""), "") in ALIVE for c in clusters]
        for c, ok in zip(clusters, alive, strict=True):
            if not ok and c.state.get("pod"):
                await self._log_end(c.state["pod"], f"cluster {c.name} of {c.username}")
        return alive

    async def do_start_worker(self, worker: Any) -> AsyncIterator[dict[str, Any]]:
        cluster = worker.cluster
        namespace = self._pods()["namespace"]
        name = f"dask-worker-{worker.name}"
        cores = quantity_cpu(float(cluster.config.worker_cores))
        memory = str(int(cluster.config.worker_memory))
        resources = {"requests": {"cpu": cores, "memory": memory}, "limits": {"cpu": cores, "memory": memory}}
        owner_uid = cluster.state.get("uid")
        owner = None if owner_uid is None else {"name": cluster.state["pod"], "uid": owner_uid}
        cmd = self.get_worker_command(cluster, worker.name)
        body = self._pod(cluster, "worker", name, cmd, self.get_worker_env(cluster), resources, owner)
        await self._core.create_namespaced_pod(namespace, body)
        yield {"pod": name}

    async def do_stop_worker(self, worker: Any) -> None:
        await self._delete_pod(self._pods()["namespace"], worker.state.get("pod") or f"dask-worker-{worker.name}")

    async def do_check_workers(self, workers: list[Any]) -> list[bool]:
        phases = await self._phases("worker")
        alive = [phases.get(w.state.get("pod", ""), "") in ALIVE for w in workers]
        for w, ok in zip(workers, alive, strict=True):
            if not ok and w.state.get("pod"):
                await self._log_end(w.state["pod"], f"a worker of cluster {w.cluster.name}")
        return alive

    async def _log_end(self, pod: str, what: str) -> None:
        """Why a pod ended, in the gateway's log: its container's exit and the end of its own log."""
        namespace = self._pods()["namespace"]
        try:
            found = await self._core.read_namespaced_pod(pod, namespace)
            ended = [s.state.terminated for s in found.status.container_statuses or [] if s.state.terminated]
            how = ", ".join(f"exit {t.exit_code} ({t.reason})" for t in ended) or found.status.phase or "gone"
            tail = await self._core.read_namespaced_pod_log(pod, namespace, tail_lines=20)
        except ApiException as e:
            self.log.warning("Pod %s (%s) ended; it could not be read: %s", pod, what, e.reason)
            return
        self.log.warning("Pod %s (%s) ended: %s; the end of its log:\n%s", pod, what, how, tail)

    # the API ----------------------------------------------------------------------

    async def _list(self, role: str, cluster: str | None = None) -> list[Any]:
        pods = self._pods()
        labels = pods["scheduler_labels"] if role == "scheduler" else pods["worker_labels"]
        selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
        if cluster is not None:
            selector += f",{CLUSTER_LABEL}={cluster}"
        found = await self._core.list_namespaced_pod(pods["namespace"], label_selector=selector)
        return list(found.items)

    async def _phases(self, role: str) -> dict[str, str]:
        return {p.metadata.name: p.status.phase or "" for p in await self._list(role)}

    async def _pods_of(self, cluster: str, role: str) -> list[str]:
        return [p.metadata.name for p in await self._list(role, cluster)]

    async def _delete_pod(self, namespace: str, name: str) -> None:
        try:
            await self._core.delete_namespaced_pod(name, namespace, grace_period_seconds=5)
        except ApiException as e:
            if e.status != 404:
                raise


def _secret_name(cluster: Any) -> str:
    return f"dask-tls-{cluster.name}"


def _env_var(cluster: Any, name: str, value: str) -> dict[str, Any]:
    """One environment variable of a cluster's pod; a credential comes from the cluster's Secret."""
    key = SECRET_ENV.get(name)
    if key is None:
        return {"name": name, "value": value}
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": _secret_name(cluster), "key": key}}}
