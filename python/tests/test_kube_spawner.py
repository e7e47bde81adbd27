"""User pods as their users: the kube spawner, configured from the kubernetes render's own hub settings."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from kubernetes_asyncio.client import ApiClient
from kubernetes_asyncio.config import kube_config
from kubespawner import clients
from tornado import web
from traitlets.config import Config

from atrium_hub import kube_spawner
from atrium_hub.kube_spawner import AtriumKubeSpawner

GOLDEN = Path(__file__).resolve().parents[2] / "test" / "golden" / "team-kubernetes" / "3-config"


def hub_settings() -> dict[str, Any]:
    configmap = json.loads((GOLDEN / "configmap-hub-settings.json").read_text(encoding="utf-8"))
    settings: dict[str, Any] = json.loads(configmap["data"]["atrium_hub.json"])
    return settings


def spawner_for(name: str, groups: list[str], options: dict[str, Any]) -> AtriumKubeSpawner:
    settings = hub_settings()
    c = Config()
    kube_spawner.apply(c, settings["kube_spawner"], settings["profiles"])
    user = SimpleNamespace(
        name=name,
        id=1,
        url=f"/user/{name}/",
        groups=[SimpleNamespace(name=g) for g in groups],
        escaped_name=name,
        settings={},
    )
    spawner = AtriumKubeSpawner(config=c, user=user, _mock=True)
    spawner.user_options = options
    return spawner


@pytest.fixture(autouse=True)
def kubeconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """KubeSpawner reads a kubeconfig when it is made; one naming a cluster nothing here talks to."""
    path = tmp_path / "kubeconfig"
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "t",
                "clusters": [{"name": "t", "cluster": {"server": "https://127.0.0.1:9"}}],
                "users": [{"name": "t", "user": {"token": "unused"}}],
                "contexts": [{"name": "t", "context": {"cluster": "t", "user": "t"}}],
            }
        ),
        encoding="utf-8",
    )
    # the client reads KUBECONFIG once, when it is imported
    monkeypatch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(path))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    clients.load_config.cache_clear()


@pytest.fixture
def kube() -> dict[str, Any]:
    return dict(hub_settings()["kube_spawner"])


async def test_a_modeler_on_the_large_profile_gets_the_highmem_pool_as_herself(kube: dict[str, Any]) -> None:
    spawner = spawner_for("grace", ["modelers"], {"profile": "large"})
    await spawner.load_user_options()
    pod = ApiClient().sanitize_for_serialization(await spawner.get_pod_manifest())
    grace = next(u for u in kube["users"] if u["name"] == "grace")
    spec = pod["spec"]
    container = spec["containers"][0]
    # KubeSpawner puts the uid and gid on the container, the groups on the pod; no fsGroup
    assert spec["securityContext"] == {"supplementalGroups": grace["supplemental_gids"]}
    sc = container["securityContext"]
    assert (sc["runAsUser"], sc["runAsGroup"]) == (grace["uid"], grace["gid"])
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert sc["runAsNonRoot"] is True
    assert spec["nodeSelector"] == {"atrium.dev/pool": "highmem", "hub.jupyter.org/node-purpose": "user"}
    assert [t["value"] for t in spec["tolerations"] if t["key"] == "atrium.dev/pool"] == ["highmem"]
    assert container["resources"]["limits"]["memory"] == 16 * 1024**3
    assert spec["automountServiceAccountToken"] is False
    mounts = {m["mountPath"]: m.get("subPath") for m in container["volumeMounts"]}
    assert mounts["/home/grace"] == "home/grace"
    assert mounts["/shared/modelers"] == "shared/modelers"
    # never another user's home, nor a group she is not in
    assert not any(p.startswith("/home/") and p != "/home/grace" for p in mounts)
    assert not any(p.startswith("/shared/") and p != "/shared/modelers" for p in mounts)


async def test_a_forbidden_profile_is_refused_before_any_pod() -> None:
    spawner = spawner_for("katherine", ["analysts"], {"profile": "large"})
    with pytest.raises(web.HTTPError) as e:
        await spawner.load_user_options()
    assert e.value.status_code == 403
    allowed = spawner_for("katherine", ["analysts"], {"profile": "small"})
    await allowed.load_user_options()
    assert allowed.node_selector == {}


async def test_a_hub_user_the_file_does_not_name_gets_no_pod() -> None:
    spawner = spawner_for("mallory", [], {"profile": "small"})
    with pytest.raises(web.HTTPError) as e:
        await spawner.load_user_options()
    assert e.value.status_code == 403


async def test_a_server_lists_its_users_own_managed_kernels_only() -> None:
    spawner = spawner_for("grace", ["modelers"], {"profile": "small"})
    await spawner.load_user_options()
    path = spawner.get_env()["JUPYTER_PATH"].split(":")
    assert path[0] == "/opt/atrium/envs/managed/.kernels/grace"
    assert not any(p.endswith("/ada") for p in path)
