from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import write_json

from atrium_hub.settings import (
    CONFIG_ENV,
    Cgroup,
    Profile,
    Service,
    SettingsError,
    load_settings,
    load_settings_from_env,
    parse_settings,
)


def problems(data: Any) -> list[str]:
    with pytest.raises(SettingsError) as info:
        parse_settings(data, "hub.json")
    return [f"{p.key}  {p.message}" for p in info.value.problems]


def test_contract_example_loads_into_typed_settings(tmp_path: Path, data: dict[str, Any]) -> None:
    path = write_json(tmp_path / "hub.json", data)
    s = load_settings(path)
    assert s.source == str(path)
    assert s.project.title == "Team platform"
    assert s.hub.bind_url == "http://127.0.0.1:8081"
    assert s.hub.base_url == "/"
    assert [u.name for u in s.users] == ["alice", "bob", "carol"]
    assert s.users[2].groups == ("data", "gpu")
    assert s.groups[0].shared_folder == "/srv/atrium/shared/data"
    assert s.profiles[0] == Profile(
        name="small",
        display_name="Small",
        description="2 CPU, 4 GiB",
        cpu_limit=2.0,
        cpu_guarantee=0.5,
        mem_limit=4294967296,
        mem_guarantee=1073741824,
        gpus=0,
        default=True,
        groups=(),
        users=(),
        pids_limit=4096,
    )
    assert isinstance(s.profiles[0].cpu_limit, float)
    assert s.spawner.cmd == ("/opt/atrium/venvs/user/bin/jupyterhub-singleuser",)
    assert s.spawner.cgroup == Cgroup(mode="v1", v1_root="/sys/fs/cgroup", parent="atrium/team/users")
    assert s.idle_culler.timeout == 3600
    assert s.services == ()


def test_spawner_kernels_dir_is_optional_and_absolute(data: dict[str, Any]) -> None:
    assert parse_settings(data).spawner.kernels_dir is None
    data["spawner"]["kernels_dir"] = "/opt/atrium/environments/.kernels"
    assert parse_settings(data).spawner.kernels_dir == "/opt/atrium/environments/.kernels"
    data["spawner"]["kernels_dir"] = "kernels"
    assert problems(data) == ['spawner.kernels_dir  expected an absolute path, got "kernels"']


def test_service_optional_keys_get_defaults(data: dict[str, Any]) -> None:
    data["services"] = [
        {"name": "envs", "url": "http://127.0.0.1:9000", "api_token_file": "/s/envs", "scopes": ["read:users"]}
    ]
    s = parse_settings(data)
    assert s.services == (
        Service(
            name="envs",
            url="http://127.0.0.1:9000",
            api_token_file="/s/envs",
            oauth_redirect_uri=None,
            admin=False,
            oauth_no_confirm=True,
            scopes=("read:users",),
        ),
    )


def test_every_problem_is_reported_with_its_key(data: dict[str, Any]) -> None:
    del data["hub"]["db_url"]
    data["hub"]["bind_url"] = 8081
    data["proxy"]["extra"] = 1
    data["users"][1]["admin"] = "no"
    data["profiles"][0]["mem_limit"] = "4G"
    data["spawner"]["cgroup"]["mode"] = "v3"
    assert problems(data) == [
        "hub.db_url  missing",
        "hub.bind_url  expected an http(s) URL like http://127.0.0.1:8081, got 8081",
        "proxy.extra  unknown key",
        'users[1].admin  expected boolean, got "no"',
        'profiles[0].mem_limit  expected integer, got "4G"',
        'spawner.cgroup.mode  "v3" is not one of auto, v1, v2-systemd, off',
    ]


def test_cross_references_are_checked(data: dict[str, Any]) -> None:
    data["users"][0]["groups"] = ["data", "dta"]
    data["profiles"][1]["groups"] = ["nope"]
    data["profiles"][2]["users"] = ["dave"]
    data["profiles"][1]["default"] = True
    data["users"].append(dict(data["users"][1]))
    assert problems(data) == [
        'users[3].name  "bob" is listed twice',
        'users[0].groups[1]  unknown group "dta"; groups are: data, gpu',
        "profiles  more than one default profile: small, large; mark exactly one",
        'profiles[1].groups[0]  unknown group "nope"; groups are: data, gpu',
        'profiles[2].users[0]  unknown user "dave"; users are: alice, bob, carol',
    ]


def test_top_level_shape(data: dict[str, Any]) -> None:
    data["version"] = 2
    del data["services"]
    data["extra"] = {}
    assert problems(data) == [
        "services  missing",
        "extra  unknown key",
        "version  2 is not supported; expected 1",
    ]


def test_values_are_checked_beyond_types(data: dict[str, Any]) -> None:
    data["users"][0]["name"] = "Alice"
    data["users"][0]["home"] = "home/alice"
    data["hub"]["base_url"] = "/jupyter"
    data["hub"]["public_url"] = "http://example.org/other/"
    data["profiles"][0]["cpu_guarantee"] = 3
    data["spawner"]["cgroup"]["parent"] = "../escape"
    data["spawner"]["environment"] = {"BAD-NAME": "x", "N": 1}
    data["spawner"]["cmd"] = []
    data["idle_culler"]["timeout"] = 0
    data["services"] = [{"name": "idle-culler"}]
    assert problems(data) == [
        'hub.base_url  expected a path that starts and ends with /, got "/jupyter"',
        'users[0].name  expected a name of a-z, 0-9, _ and -, starting with a letter or _ (at most 32), got "Alice"',
        'users[0].home  expected an absolute path, got "home/alice"',
        "spawner.cmd  must not be empty",
        'spawner.environment  expected an environment variable name, got "BAD-NAME"',
        "spawner.environment.N  expected string, got 1",
        'spawner.cgroup.parent  expected a relative path like atrium/team/users, got "../escape"',
        "idle_culler.timeout  expected a number >= 1, got 0",
        "profiles[0].cpu_guarantee  3 is more than cpu_limit 2",
        'services[0].name  "idle-culler" is reserved for the idle culler',
    ]


def test_public_url_path_must_match_base_url(data: dict[str, Any]) -> None:
    data["hub"]["base_url"] = "/jupyter/"
    data["hub"]["public_url"] = "https://hub.example.org/other"
    assert problems(data) == [
        'hub.public_url  path "/other" must be empty or equal hub.base_url "/jupyter/"',
    ]
    data["hub"]["public_url"] = "https://hub.example.org/jupyter"
    assert parse_settings(data).hub.public_url == "https://hub.example.org/jupyter"


def test_error_message_names_the_file(tmp_path: Path, data: dict[str, Any]) -> None:
    data["auth"]["type"] = "pam"
    path = write_json(tmp_path / "hub.json", data)
    with pytest.raises(SettingsError) as info:
        load_settings(path)
    assert str(info.value) == f'invalid Atrium hub config:\n  {path}  auth.type  "pam" is not one of password, oidc'


def test_unreadable_and_invalid_files(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    with pytest.raises(SettingsError) as info:
        load_settings(missing)
    assert (
        str(info.value) == f"invalid Atrium hub config:\n  {missing}  cannot read the file: No such file or directory"
    )

    broken = tmp_path / "broken.json"
    broken.write_text('{"version": 1,\n  "hub": }')
    with pytest.raises(SettingsError) as info:
        load_settings(broken)
    assert str(info.value) == (
        f"invalid Atrium hub config:\n  {broken}  not valid JSON at line 2 column 10: Expecting value"
    )

    with pytest.raises(SettingsError) as info:
        parse_settings([1], "x.json")
    assert str(info.value) == "invalid Atrium hub config:\n  x.json  expected a JSON object at the top, got [1]"


def test_load_from_env(tmp_path: Path, data: dict[str, Any]) -> None:
    path = write_json(tmp_path / "hub.json", data)
    assert load_settings_from_env({CONFIG_ENV: str(path)}).project.name == "team"
    with pytest.raises(SettingsError) as info:
        load_settings_from_env({})
    assert str(info.value) == (
        "invalid Atrium hub config:\n  $ATRIUM_HUB_CONFIG  is not set; it must name the hub JSON file"
    )


def test_problems_keep_the_index_of_the_file(data: dict[str, Any]) -> None:
    data["users"][0]["shell"] = 1
    data["users"][2]["groups"] = ["data", "gpux"]
    assert problems(data) == [
        "users[0].shell  expected an absolute path, got 1",
        'users[2].groups[1]  unknown group "gpux"; groups are: data, gpu',
    ]


def test_null_means_no_limit_and_no_shared_folder(data: dict[str, Any]) -> None:
    data["profiles"][1].update(cpu_limit=None, cpu_guarantee=None, mem_limit=None, mem_guarantee=None)
    data["groups"][1]["shared_folder"] = None
    s = parse_settings(data)
    large = s.profiles[1]
    assert (large.cpu_limit, large.cpu_guarantee, large.mem_limit, large.mem_guarantee) == (0.0, 0.0, 0, 0)
    assert s.groups[1].shared_folder is None


# The TypeScript renderer's golden outputs, when this checkout has them: the two
# sides of the contract must agree on every file the renderer produces.
REPO = Path(__file__).resolve().parents[2]
GOLDEN = sorted(REPO.glob("test/golden/*/hub/atrium_hub.json"))


@pytest.mark.skipif(not GOLDEN, reason="no rendered golden hub configs in this checkout")
@pytest.mark.parametrize("path", GOLDEN, ids=[p.parts[-3] for p in GOLDEN])
def test_rendered_golden_configs_load(path: Path) -> None:
    s = load_settings(path)
    assert s.version == 1
    assert s.users and s.profiles
