"""The warehouse opens in the DuckDB releases BI tools and the DuckDB CLI ship (1.4, the long-term-
support line, and 1.5), with every relation reading the same rows as in whsync's own DuckDB; and a
warehouse written in the newer storage format is converted by the next build with nothing lost."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.duckdb_storage import DEFAULT_STORAGE_VERSION, convert, file_format, format_of_version, prepare_build
from pipelines.catalog import SOURCE_RELATIONS
from pipelines.targets.duckdb import duckdb_schema
from tests import forkserver

# (schema, table) of every source's published relations in a DuckDB warehouse
SOURCE_TABLES = {src: [(duckdb_schema(ns), t) for ns, t in rels] for src, rels in SOURCE_RELATIONS.items()}

from ..duckdb_envs import duckdb_env

READ = Path(__file__).resolve().parents[1] / "read_relations.py"
WHSYNC = str(Path(sys.executable).with_name("whsync"))
# the relations a BI tool reads: Benchling's views and $raw tables, the Paradime and Bencher tables
WAREHOUSE = {f"{s}.{t}" for tables in SOURCE_TABLES.values() for s, t in tables}


def read_all(python: Path | str, path: Path) -> dict:
    p = subprocess.run([str(python), str(READ), str(path)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    return json.loads(p.stdout)


@pytest.fixture(scope="module")
def own(demo_warehouse: Path) -> dict:
    return read_all(sys.executable, demo_warehouse)


@pytest.mark.parametrize("release", ["1.4", "1.5"])
def test_duckdb_release_reads_every_relation_of_the_demo_warehouse(demo_warehouse, own, release):
    theirs = read_all(duckdb_env(f"duckdb=={release}.*") / "python", demo_warehouse)
    assert theirs["duckdb"].startswith(f"{release}.") and own["duckdb"] == duckdb.__version__
    assert own["format"] == theirs["format"] == format_of_version(DEFAULT_STORAGE_VERSION) == "v1.4.0+"
    errors = {name: r["error"] for name, r in theirs["relations"].items() if "error" in r}
    assert not errors, f"DuckDB {theirs['duckdb']} cannot read: {errors}"
    assert WAREHOUSE <= set(own["relations"]), WAREHOUSE - set(own["relations"])
    assert all(own["relations"][name]["rows"] for name in WAREHOUSE)
    assert any(name.startswith("staging.") for name in own["relations"])  # dbt's staging views too
    assert theirs["relations"] == own["relations"]


def test_the_duckdb_cli_from_pypi_opens_the_demo_warehouse(demo_warehouse):
    """The README's command: `.tools/bin/uvx --from duckdb-cli duckdb -readonly warehouse.duckdb` (the
    DuckDB CLI from PyPI, newest release, in uv's tool cache) opens the file."""
    query = 'select "archive_purpose$" as purpose, count(*) as n from "project$raw" group by 1 order by 1'
    uvx = Path(__file__).resolve().parents[2] / ".tools" / "bin" / "uvx"
    p = subprocess.run([str(uvx), "--from", "duckdb-cli", "duckdb", "-readonly", "-json", str(demo_warehouse),
                        "-c", query], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    con = duckdb.connect(str(demo_warehouse), read_only=True)
    try:
        expected = [{"purpose": a, "n": n} for a, n in con.execute(query).fetchall()]
    finally:
        con.close()
    assert json.loads(p.stdout) == expected and len(expected) > 1


def _catalog(path: Path) -> dict:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {
            "columns": con.execute("select schema_name, table_name, column_name, data_type, is_nullable, "
                                   "column_default, comment from duckdb_columns() order by all").fetchall(),
            "constraints": con.execute("select schema_name, table_name, constraint_type, constraint_text "
                                       "from duckdb_constraints() order by all").fetchall(),
            "views": con.execute("select schema_name, view_name, sql from duckdb_views() where not internal "
                                 "order by all").fetchall(),
        }
    finally:
        con.close()


def test_a_warehouse_in_the_newer_format_is_converted_once_by_build_with_nothing_lost(demo_warehouse, tmp_path):
    newer = tmp_path / "warehouse.duckdb"
    convert(demo_warehouse, newer, "latest")  # as an older whsync wrote it: DuckDB's own newest format
    assert file_format(newer) == format_of_version("latest") != "v1.4.0+"
    before, catalog = read_all(sys.executable, newer), _catalog(newer)
    lts = duckdb_env("duckdb==1.4.*") / "python"
    refused = subprocess.run([str(lts), str(READ), str(newer)], capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0 and "newer version of DuckDB" in refused.stderr  # the failure
    told = forkserver.run([WHSYNC, "sql", "--duckdb", str(newer), "select 1"], capture_output=True, text=True,
                          timeout=120)
    assert told.returncode == 0 and "whsync: note:" in told.stderr and f"whsync build --duckdb {newer}" in told.stderr

    p = forkserver.run([WHSYNC, "build", "--duckdb", str(newer)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    # `whsync build` runs every dbt unit test of the project (a sync's build leaves them out: SYNC_BUILD_ARGS)
    assert f"and {project_unit_tests()} unit tests in" in p.stdout and project_unit_tests() > 5, p.stdout
    assert f"converting warehouse.duckdb from DuckDB storage format {before['format']} to v1.4.0+" in p.stdout + p.stderr
    after = read_all(sys.executable, newer)
    assert after["format"] == "v1.4.0+"
    assert after["relations"] == before["relations"]  # every table (raw, dlt state, $raw) and view
    for schema in ("benchling_raw", "paradime_raw", "bencher_raw"):  # dlt's state survives, row for row
        for table in ("_dlt_pipeline_state", "_dlt_loads", "_dlt_version"):
            assert after["relations"][f"{schema}.{table}"]["rows"], f"{schema}.{table} is empty"
    assert _catalog(newer) == catalog  # columns, types, NOT NULL and keys, view definitions
    assert read_all(lts, newer)["relations"] == after["relations"]  # and now 1.4 reads all of it

    notes: list[str] = []  # once only: the next build copies the file as it is
    prepare_build(newer, tmp_path / "next-build.duckdb", DEFAULT_STORAGE_VERSION, notes.append)
    assert notes == [] and file_format(tmp_path / "next-build.duckdb") == "v1.4.0+"


def test_an_unknown_storage_version_is_refused_before_any_work(tmp_path):
    p = forkserver.run([WHSYNC, "build", "--duckdb", str(tmp_path / "w.duckdb"), "--duckdb-storage-version",
                        "v9.9.9"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 2
    assert p.stderr.startswith("whsync: error: --duckdb-storage-version: 'v9.9.9' is not a DuckDB release")
    assert len(p.stderr.strip().splitlines()) == 1 and not (tmp_path / "w.duckdb").exists()


def project_unit_tests() -> int:
    """The dbt unit tests the project declares (models/**/*.yml `unit_tests:`)."""
    import yaml

    from pipelines.project import dbt_project_dir

    return sum(len((yaml.safe_load(f.read_text()) or {}).get("unit_tests") or [])
               for f in (dbt_project_dir() / "models").rglob("*.yml"))
