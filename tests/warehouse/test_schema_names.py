"""Schema names per dbt target (macros/generate_schema_name.sql): whsync's own targets keep today's
names (`main`, `staging`, `paradime`, `bencher`); a developer's and a CI target each get their own
prefixed schemas, so two dbt targets never collide in `staging` or anywhere else."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from dbt.cli.main import dbtRunner

from pipelines.dbt import PROJECT_DIR

PROFILES = """
whsync:
  target: duckdb
  outputs:
    duckdb: {{type: duckdb, path: "{db}", schema: main}}
    dev: {{type: duckdb, path: "{db}", schema: dev_alice}}
    ci: {{type: duckdb, path: "{db}", schema: ci}}
"""


def model_schemas(tmp_path: Path, target: str) -> dict[str, str]:
    """name -> schema of every model, as dbt resolves them when parsing for `target`."""
    (tmp_path / "profiles.yml").write_text(PROFILES.format(db=tmp_path / "w.duckdb"))
    out = tmp_path / f"target-{target}"
    res = dbtRunner().invoke(["parse", "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(tmp_path),
                              "--target", target, "--target-path", str(out), "--log-path", str(tmp_path / "logs"),
                              "--quiet", "--no-partial-parse"])
    assert res.success, res.exception
    manifest = json.loads((out / "manifest.json").read_text())
    return {n["name"]: n["schema"] for n in manifest["nodes"].values() if n["resource_type"] == "model"}


@pytest.fixture(scope="module")
def schemas(tmp_path_factory) -> dict[str, dict[str, str]]:
    tmp = tmp_path_factory.mktemp("schemas")
    return {t: model_schemas(tmp, t) for t in ("duckdb", "dev", "ci")}


def test_production_target_keeps_todays_schema_names(schemas):
    prod = schemas["duckdb"]
    assert prod["user"] == prod["project$raw"] == "main"
    assert prod["stg_benchling__users"] == "staging"
    assert prod["paradime__user"] == "paradime" and prod["bencher__member"] == "bencher"


def test_dev_and_ci_targets_are_kept_apart(schemas):
    dev, ci, prod = schemas["dev"], schemas["ci"], schemas["duckdb"]
    assert dev["user"] == "dev_alice" and ci["user"] == "ci"
    assert dev["stg_benchling__users"] == "dev_alice_staging" and ci["stg_benchling__users"] == "ci_staging"
    assert dev["paradime__user"] == "dev_alice_paradime" and ci["bencher__member"] == "ci_bencher"
    # no model of one target lands in a schema of another
    for name in prod:
        assert len({dev[name], ci[name], prod[name]}) == 3, name
