"""Dask clusters as pods: the pod each scheduler and worker gets, read from the settings
the kubernetes render writes (its golden file), so the two stay in step."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from dask_gateway_server.backends.base import PublicException

from atrium_hub.dask_options import parse_settings
from atrium_hub.dask_pods import AtriumPodBackend, PodClusterConfig, fixed_ports, quantity_cpu, without_dashboard

GOLDEN = Path(__file__).parents[2] / "test/golden/team-kubernetes/3-config/configmap-dask-gateway.json"


def backend() -> AtriumPodBackend:
    data = json.loads(json.loads(GOLDEN.read_text())["data"]["gateway.json"])
    b = AtriumPodBackend.__new__(AtriumPodBackend)
    b.atrium = parse_settings(data)
    return b


def cluster(user: str = "grace", profile: str = "large") -> Any:
    return SimpleNamespace(name="c0ffee", username=user, options={"worker_profile": profile})


def test_the_settings_with_pods_parse_without_local_fields() -> None:
    s = backend().atrium
    assert s is not None and s.pods is not None
    assert s.pods["namespace"] == "team"


def test_a_worker_runs_as_its_user_with_its_profiles_pool_and_no_privilege() -> None:
    resources = {"requests": {"cpu": "2000m"}, "limits": {"cpu": "2000m"}}
    owner = {"name": "dask-scheduler-c0ffee", "uid": "u-1"}
    pod = backend()._pod(cluster(), "worker", "dask-worker-w", ["dask-worker"], {"A": "1"}, resources, owner)
    spec = pod["spec"]
    assert spec["securityContext"]["runAsUser"] == 10004
    assert spec["securityContext"]["runAsGroup"] == 10004
    assert spec["securityContext"]["supplementalGroups"] == [10007]
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["automountServiceAccountToken"] is False
    assert spec["nodeSelector"]["atrium.dev/pool"] == "highmem"
    assert spec["tolerations"][0]["value"] == "highmem"
    (container,) = spec["containers"]
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert container["resources"] == resources
    assert container["command"][:3] == ["/bin/sh", "-c", 'umask 0002 && exec "$@"']
    assert container["command"][4:] == ["dask-worker"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["HOME"] == "/home/grace" and env["USER"] == "grace" and env["A"] == "1"
    paths = [m["mountPath"] for m in container["volumeMounts"]]
    assert "/home/grace" in paths and "/shared/modelers" in paths
    assert "/home/ada" not in paths
    assert pod["metadata"]["ownerReferences"] == [{"apiVersion": "v1", "kind": "Pod", **owner}]
    assert pod["metadata"]["labels"]["atrium.dev/user"] == "grace"


def test_a_clusters_credentials_come_from_its_secret_never_from_the_pod_spec() -> None:
    env = {
        "DASK_GATEWAY_API_TOKEN": "t0ken",
        "DASK_DISTRIBUTED__COMM__TLS__CA_FILE": "/unused/dask.crt",
        "DASK_DISTRIBUTED__COMM__TLS__WORKER__KEY": "/unused/dask.pem",
        "DASK_GATEWAY_CLUSTER_NAME": "c0ffee",
    }
    pod = backend()._pod(cluster(), "worker", "dask-worker-w", ["dask-worker"], env, {}, None)
    (container,) = pod["spec"]["containers"]
    got = {e["name"]: e for e in container["env"]}
    assert "t0ken" not in json.dumps(pod)
    assert got["DASK_GATEWAY_API_TOKEN"]["valueFrom"] == {
        "secretKeyRef": {"name": "dask-tls-c0ffee", "key": "api-token"}
    }
    assert got["DASK_DISTRIBUTED__COMM__TLS__CA_FILE"]["valueFrom"]["secretKeyRef"]["key"] == "dask.crt"
    assert got["DASK_DISTRIBUTED__COMM__TLS__WORKER__KEY"]["valueFrom"]["secretKeyRef"]["key"] == "dask.pem"
    assert got["DASK_GATEWAY_CLUSTER_NAME"] == {"name": "DASK_GATEWAY_CLUSTER_NAME", "value": "c0ffee"}
    assert not any("secret" in v for v in pod["spec"]["volumes"])


def test_a_scheduler_lands_anywhere_and_a_small_worker_too() -> None:
    b = backend()
    scheduler = b._pod(cluster(), "scheduler", "s", ["dask-scheduler"], {}, {}, None)
    assert scheduler["spec"]["nodeSelector"] == {} and "ownerReferences" not in scheduler["metadata"]
    assert scheduler["metadata"]["labels"]["app.kubernetes.io/component"] == "dask-scheduler"
    small = b._pod(cluster(profile="small"), "worker", "w", ["dask-worker"], {}, {}, None)
    assert small["spec"]["nodeSelector"] == {}


def test_a_user_the_file_does_not_name_gets_no_pod() -> None:
    with pytest.raises(PublicException, match="mallory is not a user"):
        backend()._pod(cluster(user="mallory"), "worker", "w", [], {}, {}, None)


def test_the_scheduler_listens_on_the_ports_the_policies_name_with_no_dashboard() -> None:
    cmd = ["dask-scheduler", "--port", "0", "--dashboard-address", "0.0.0.0:0", "--dg-api-address", "0.0.0.0:0"]
    assert fixed_ports(cmd) == [
        "dask-scheduler",
        "--port",
        "8786",
        "--no-dashboard",
        "--dg-api-address",
        "0.0.0.0:8788",
    ]
    assert without_dashboard(["dask-worker", "--dashboard-address", ":0", "--nthreads", "1"]) == [
        "dask-worker",
        "--no-dashboard",
        "--nthreads",
        "1",
    ]


def test_a_clusters_policy_lets_in_its_own_pods_only() -> None:
    policy = backend()._cluster_policy(cluster())
    own = {"matchLabels": {"atrium.dev/dask-cluster": "c0ffee"}}
    assert policy["spec"] == {
        "podSelector": own,
        "policyTypes": ["Ingress"],
        "ingress": [{"from": [{"podSelector": own}]}],
    }
    assert policy["metadata"]["labels"]["atrium.dev/dask-cluster"] == "c0ffee"


def test_cores_become_millicores() -> None:
    assert quantity_cpu(0.5) == "500m"
    assert quantity_cpu(2) == "2000m"
    assert quantity_cpu(0.0001) == "1m"


def test_a_fraction_of_a_core_is_a_valid_pod_cluster_setting() -> None:
    from dask_gateway_server.backends.base import ClusterConfig
    from traitlets import TraitError

    from atrium_hub.dask_options import cluster_options

    settings = backend()._settings()
    options = cluster_options(settings, whole_cores=False)(SimpleNamespace(name="grace"))
    chosen = options.get_configuration(
        {"worker_profile": settings.worker_profiles[0].name}, SimpleNamespace(name="grace")
    )
    fraction = {**chosen, "worker_cores": 0.2}
    assert PodClusterConfig(**fraction).worker_cores == 0.2
    with pytest.raises(TraitError):
        ClusterConfig(**fraction)  # processes' cores are whole: why pods need their own class
    assert AtriumPodBackend.cluster_config_class.default_value is PodClusterConfig
