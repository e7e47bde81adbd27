"""The committed JSON Schemas (generated from src/contracts by `npm run contracts`) and their checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from atrium_hub import contract

SCHEMAS = sorted(contract.SCHEMA_DIR.glob("*.schema.json"))
REPO = Path(__file__).resolve().parents[2]
# rendered golden files of this checkout, and the contract each is written to
RENDERED = {
    "hub/atrium_hub.json": "hub-settings",
    "dask-gateway/gateway.json": "dask-gateway",
    "services/dask-auth.json": "dask-auth",
    "services/envs.json": "envs-service",
    "services/ssh.json": "ssh-service",
}
GOLDEN = [(p, name) for rel, name in RENDERED.items() for p in sorted(REPO.glob(f"test/golden/*/{rel}"))]


def test_every_contract_ships_a_valid_schema() -> None:
    names = {p.name.removesuffix(".schema.json") for p in SCHEMAS}
    assert {"hub-settings", "dask-gateway", "dask-environments", "oidc-accounts"} <= names
    for path in SCHEMAS:
        Draft202012Validator.check_schema(json.loads(path.read_text()))


@pytest.mark.skipif(not GOLDEN, reason="no rendered golden files in this checkout")
@pytest.mark.parametrize(("path", "name"), GOLDEN, ids=[f"{p.parts[-3]}-{p.name}" for p, _ in GOLDEN])
def test_rendered_golden_files_follow_their_contract(path: Path, name: str) -> None:
    assert contract.problems(name, json.loads(path.read_text())) == []


def test_every_problem_names_the_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "accounts.json"
    data: dict[str, Any] = {"version": 2, "accounts": {"Bad": {"claim": 1, "created": True}, "ok": {}}}
    path.write_text(json.dumps(data))
    with pytest.raises(contract.ContractError) as info:
        contract.load("oidc-accounts", path)
    assert str(info.value) == "\n".join(
        [
            "invalid Atrium file:",
            f"  {path}  version  2 is not supported; expected 1",
            f"  {path}  accounts  expected a name of a-z, 0-9, _ and -, starting with a letter or _ (at most 32),"
            ' got "Bad"',
            f"  {path}  accounts.Bad.claim  expected string, got 1",
            f"  {path}  accounts.ok.claim  missing",
            f"  {path}  accounts.ok.created  missing",
        ]
    )
