"""User servers as pods on the kubernetes target: Atrium's profiles and access rules
(ProfileAccessMixin) on KubeSpawner, each pod as its user.

What must stay true:

- a pod runs as the user's uid, own gid and groups from the file (or as Atrium's
  state allocated them), never as root, with no privilege escalation, every
  capability dropped and the runtime's seccomp profile;
- the profile is checked against the user's groups at every start, on the server
  (a REST spawn naming a forbidden profile is refused before any pod is made), and
  its node selector, tolerations and GPU limit are the pod's;
- a user's pod mounts their own home and their groups' folders only (plus the
  environments, read-only): never another user's home.

All data comes from the hub settings' `kube_spawner` section, which the contract
checked; nothing here re-checks it.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import Any

from kubespawner import KubeSpawner
from traitlets import Dict, List, Unicode
from traitlets.config import Config

from .profile_access import ProfileAccessMixin, refusal

SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def volume(v: Mapping[str, Any]) -> dict[str, Any]:
    """A volume of the settings as a pod spec's volume."""
    if v["persistent_volume_claim"] is not None:
        return {"name": v["name"], "persistentVolumeClaim": {"claimName": v["persistent_volume_claim"]}}
    return {"name": v["name"], "configMap": {"name": v["config_map"]}}


def mount(m: Mapping[str, Any]) -> dict[str, Any]:
    """A volume mount of the settings as a container's volumeMount."""
    out: dict[str, Any] = {"name": m["name"], "mountPath": m["mount_path"], "readOnly": m["read_only"]}
    if m["sub_path"] is not None:
        out["subPath"] = m["sub_path"]
    return out


class AtriumKubeSpawner(ProfileAccessMixin, KubeSpawner):
    """KubeSpawner with Atrium's profiles, access rules and per-user identity."""

    kube_users = Dict(help="User name -> uid, gid, supplemental_gids and volume_mounts (hub settings).").tag(
        config=True
    )
    kube_profiles = Dict(help="Profile name -> node_selector, tolerations, extra_resource_limits.").tag(config=True)
    common_volume_mounts = List(Dict(), help="Mounts every user pod has (environments, passwd/group).").tag(config=True)
    kernels_dir = Unicode("", help="Managed environments' kernelspecs: <kernels_dir>/<user> goes on JUPYTER_PATH.").tag(
        config=True
    )

    async def load_user_options(self) -> None:
        """The profile the user may have (refused otherwise), then who the pod runs as and where."""
        profile = self.apply_profile(self.user_options)
        me = self.kube_users.get(self.user.name)
        if me is None:
            # users come from the file; a hub user the file does not name gets no pod
            raise refusal(403, f"{self.user.name} is not a user of this platform's file.")
        self.uid = me["uid"]
        self.gid = me["gid"]
        self.fs_gid = None
        self.supplemental_gids = list(me["supplemental_gids"])
        self.volume_mounts = [*self.common_volume_mounts, *(mount(m) for m in me["volume_mounts"])]
        placement = self.kube_profiles.get(profile.name) if profile is not None else None
        self.node_selector = dict(placement["node_selector"]) if placement else {}
        self.tolerations = list(placement["tolerations"]) if placement else []
        self.extra_resource_limits = dict(placement["extra_resource_limits"]) if placement else {}

    def get_env(self) -> dict[str, str]:
        env: dict[str, str] = super().get_env()
        if self.kernels_dir:
            # the environment service keeps <kernels_dir>/<user>/kernels/* in line with
            # what the user may use; Jupyter lists it on every request
            mine = posixpath.join(self.kernels_dir, self.user.name)
            env["JUPYTER_PATH"] = ":".join(p for p in (mine, env.get("JUPYTER_PATH", "")) if p)
        return env


def apply(c: Config, kube: Mapping[str, Any], profiles: list[dict[str, Any]]) -> None:
    """Configure JupyterHub's spawner from the settings' kube_spawner section."""
    c.JupyterHub.spawner_class = AtriumKubeSpawner
    c.Spawner.cmd = list(kube["cmd"])
    c.Spawner.default_url = kube["default_url"]
    c.Spawner.http_timeout = 120
    c.Spawner.start_timeout = 300
    path = ":".join([*kube["path_prepend"], SYSTEM_PATH])
    c.Spawner.environment = {**kube["environment"], "PATH": path}
    k = c.AtriumKubeSpawner
    k.profiles = profiles
    k.namespace = kube["namespace"]
    k.image = kube["image"]
    k.image_pull_policy = kube["image_pull_policy"]
    k.port = kube["port"]
    k.extra_labels = dict(kube["pod_labels"])
    k.container_security_context = dict(kube["container_security_context"])
    k.allow_privilege_escalation = False
    k.privileged = False
    k.automount_service_account_token = kube["automount_service_account_token"]
    k.delete_pvc = kube["delete_pvc"]
    k.storage_pvc_ensure = False
    k.volumes = [volume(v) for v in kube["volumes"]]
    k.common_volume_mounts = [mount(m) for m in kube["volume_mounts"]]
    k.kernels_dir = kube["kernels_dir"]
    k.kube_users = {u["name"]: dict(u) for u in kube["users"]}
    k.kube_profiles = {p["name"]: dict(p) for p in kube["profiles"]}
    # the users' profile form is Atrium's (ProfileAccessMixin), never KubeSpawner's own list
    k.profile_list = []
