"""Atrium's dask-gateway glue: settings, options per user, limits across clusters."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from atrium_hub.contract import ContractError
from atrium_hub.dask_gateway import apply, load_firewall
from atrium_hub.dask_options import (
    Usage,
    allowed_environments,
    cluster_options,
    limit_problem,
    new_cluster_problem,
    parse_settings,
    usage_of,
)

GIB = 2**30


def settings_data(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "project": "team",
        "hub_api_url": "http://127.0.0.1:8081/hub/api",
        "service_name": "dask-gateway",
        "api_token_file": "/secrets/token",
        "db_url": "sqlite:////data/gateway.sqlite",
        "db_key_file": "/secrets/key",
        "address": "127.0.0.1:0",
        "proxy": {"address": "127.0.0.1:8092", "tcp_address": "127.0.0.1:8093", "prefix": "/services/dask-gateway"},
        "clusters_dir": "/data/dask-clusters",
        "worker_profiles": [
            {"name": "small", "cores": 1, "memory": 2 * GIB, "threads": 1},
            {"name": "large", "cores": 2, "memory": 4 * GIB, "threads": 2},
        ],
        "environments": [
            {"name": "default", "bin": "/opt/atrium/venvs/user/bin", "users": None},
            {"name": "ml", "bin": "/envs/ml/bin", "users": ["ada"]},
        ],
        "limits": {"max_workers": 4, "max_cores": 4, "max_memory": 12 * GIB, "max_clusters": 2},
        "scheduler_memory": GIB,
        "idle_timeout": 1800,
        "cgroup": {"mode": "auto", "v1_root": "/sys/fs/cgroup", "parent": "atrium/team/dask"},
    }
    data.update(over)
    return data


def test_parse_settings_reads_every_field() -> None:
    s = parse_settings(settings_data())
    assert s.proxy_tcp_address == "127.0.0.1:8093"
    assert [p.name for p in s.worker_profiles] == ["small", "large"]
    assert s.environments[1].users == ("ada",)
    assert s.max_memory == 12 * GIB


def test_environments_are_offered_only_to_their_users() -> None:
    s = parse_settings(settings_data())
    assert [e.name for e in allowed_environments(s, "ada")] == ["default", "ml"]
    assert [e.name for e in allowed_environments(s, "grace")] == ["default"]


def test_usage_sums_workers_cores_and_memory() -> None:
    assert usage_of([(2, 1.0, GIB), (1, 2.0, 4 * GIB)]) == Usage(workers=3, cores=4.0, memory=6 * GIB)


def test_usage_counts_each_clusters_scheduler() -> None:
    assert usage_of([(2, 1.0, GIB), (0, 1.0, GIB)], scheduler_memory=GIB) == Usage(2, 2.0, 4 * GIB)


def test_a_new_cluster_is_refused_past_the_cluster_cap_or_by_its_schedulers_memory() -> None:
    s = parse_settings(settings_data())
    assert new_cluster_problem(s, 0, Usage(0, 0, 0)) is None
    assert new_cluster_problem(s, 1, Usage(0, 0, GIB)) is None
    capped = new_cluster_problem(s, 2, Usage(0, 0, 2 * GIB))
    assert capped is not None and "limit of 2" in capped and "max_clusters" in capped
    full = new_cluster_problem(s, 1, Usage(4, 4, int(11.5 * GIB)))
    assert full is not None and "scheduler needs 1 GiB" in full and "max_memory" in full


def test_limits_count_other_clusters_and_name_the_limit() -> None:
    s = parse_settings(settings_data())
    none = Usage(0, 0, 0)
    assert limit_problem(s, none, 4, 1, GIB) is None
    problem = limit_problem(s, none, 5, 1, GIB)
    assert problem is not None and "limit of 4 workers" in problem and "max_workers" in problem
    assert limit_problem(s, Usage(3, 3, 3 * GIB), 2, 1, GIB) is not None
    cores = limit_problem(s, none, 3, 2, GIB)
    assert cores is not None and "limit of 4 cores" in cores
    memory = limit_problem(s, none, 4, 1, 4 * GIB)
    assert memory is not None and "limit of 12 GiB" in memory


def test_cluster_options_map_profile_and_environment() -> None:
    s = parse_settings(settings_data())
    options = cluster_options(s)(SimpleNamespace(name="ada"))
    values = options.parse_options({"worker_profile": "large", "environment": "ml"})
    config = options.get_configuration(values, SimpleNamespace(name="ada"))
    assert config["worker_cores"] == 2
    assert config["worker_memory"] == 4 * GIB
    assert config["worker_cmd"] == ["/envs/ml/bin/dask", "worker"]
    # the scheduler needs dask-gateway's preload, which the default env has
    assert config["scheduler_cmd"] == ["/opt/atrium/venvs/user/bin/dask", "scheduler"]
    assert config["scheduler_memory"] == GIB


def test_managed_environments_are_read_at_each_request(tmp_path: Any) -> None:
    managed = tmp_path / "dask-environments.json"
    s = parse_settings(settings_data(environments_file=str(managed)))
    # no file yet: only the rendered environments
    assert [e.name for e in allowed_environments(s, "grace")] == ["default"]
    managed.write_text(
        '[{"name": "global/tools", "bin": "/envs/global/tools/current/bin", "users": null},'
        ' {"name": "grace/mine", "bin": "/envs/grace/mine/current/bin", "users": ["grace"]}]'
    )
    assert [e.name for e in allowed_environments(s, "grace")] == ["default", "global/tools", "grace/mine"]
    assert [e.name for e in allowed_environments(s, "ada")] == ["default", "ml", "global/tools"]
    options = cluster_options(s)(SimpleNamespace(name="grace"))
    values = options.parse_options({"environment": "grace/mine"})
    config = options.get_configuration(values, SimpleNamespace(name="grace"))
    assert config["worker_cmd"] == ["/envs/grace/mine/current/bin/dask", "worker"]
    assert config["environment"]["PATH"].startswith("/envs/grace/mine/current/bin:")
    with pytest.raises(ValueError):
        cluster_options(s)(SimpleNamespace(name="ada")).parse_options({"environment": "grace/mine"})


def test_a_broken_managed_list_leaves_the_default(tmp_path: Any) -> None:
    managed = tmp_path / "dask-environments.json"
    managed.write_text("{not json")
    s = parse_settings(settings_data(environments_file=str(managed)))
    assert [e.name for e in allowed_environments(s, "grace")] == ["default"]


def test_a_gateway_json_that_breaks_its_contract_names_every_problem() -> None:
    data = settings_data(extra=1)
    del data["limits"]["max_workers"]
    data["proxy"]["address"] = 8092
    data["worker_profiles"][0]["memory"] = "2G"
    with pytest.raises(ContractError) as info:
        parse_settings(data, "/etc/atrium/dask-gateway/gateway.json")
    assert [f"{p.key}  {p.message}" for p in info.value.problems] == [
        "extra  unknown key",
        "proxy.address  expected host:port, got 8092",
        'worker_profiles[0].memory  expected integer, got "2G"',
        "limits.max_workers  missing",
    ]
    assert str(info.value).startswith("invalid Atrium dask-gateway config:\n  /etc/atrium/dask-gateway/gateway.json  ")


def test_a_managed_list_that_breaks_its_contract_leaves_the_default(tmp_path: Any) -> None:
    managed = tmp_path / "dask-environments.json"
    managed.write_text('[{"name": "global/tools", "bin": "relative/bin", "users": null}]')
    s = parse_settings(settings_data(environments_file=str(managed)))
    assert [e.name for e in allowed_environments(s, "grace")] == ["default"]


def test_a_user_cannot_pick_an_environment_not_theirs() -> None:
    s = parse_settings(settings_data())
    options = cluster_options(s)(SimpleNamespace(name="grace"))
    with pytest.raises(ValueError):
        options.parse_options({"environment": "ml"})


def test_apply_sets_the_gateway_up(tmp_path: Any) -> None:
    from traitlets.config import Config

    token = tmp_path / "token"
    key = tmp_path / "key"
    token.write_text("a" * 64 + "\n")
    key.write_text("k" * 43 + "=\n")
    token.chmod(0o600)
    key.chmod(0o600)
    s = parse_settings(settings_data(api_token_file=str(token), db_key_file=str(key)))
    c = Config()
    apply(c, s)
    assert c.JupyterHubAuthenticator.jupyterhub_api_token == "a" * 64
    assert c.JupyterHubAuthenticator.jupyterhub_service_name == "dask-gateway"
    assert c.Proxy.prefix == "/services/dask-gateway"
    assert c.DBBackendBase.db_encrypt_keys == ["k" * 43 + "="]
    assert c.DBBackendBase.stop_clusters_on_shutdown is False
    assert c.ClusterConfig.idle_timeout == 1800


def test_dask_status_lists_active_clusters(tmp_path: Any) -> None:
    import sqlite3

    from atrium_hub.dask_status import active_clusters

    db = tmp_path / "gateway.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE clusters (name TEXT, username TEXT, status INTEGER, count INTEGER)")
    con.executemany(
        "INSERT INTO clusters VALUES (?, ?, ?, ?)",
        [("a", "ada", 3, 2), ("b", "ada", 5, 0), ("c", "grace", 2, 0)],
    )
    con.commit()
    con.close()
    assert active_clusters(str(db)) == [
        {"name": "a", "user": "ada", "status": "running", "workers": 2},
        {"name": "c", "user": "grace", "status": "submitted", "workers": 0},
    ]


def test_the_gateway_does_not_start_when_its_firewall_rule_fails(tmp_path: Path) -> None:
    load_firewall(None)  # nothing to load
    fake = tmp_path / "nft"
    fake.write_text("#!/bin/sh\necho 'Error: Could not process rule' >&2\nexit 1\n")
    fake.chmod(0o755)
    with pytest.raises(SystemExit, match="would be open to every local user"):
        load_firewall(str(tmp_path / "firewall.nft"), str(fake))
    fake.write_text("#!/bin/sh\nexit 0\n")
    load_firewall(str(tmp_path / "firewall.nft"), str(fake))
