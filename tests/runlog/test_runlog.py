"""The run log on DuckDB (the scenario and checks are in scenario.py; PostgreSQL runs the same in
tests/postgres/test_runlog_pg.py), `whsync status` configuration errors, and `dbt source freshness`
on a synced warehouse."""
from __future__ import annotations

import json
import os
import shutil

import duckdb
import pytest

from pipelines.dbt import DbtBuildError, run_dbt
from pipelines.journal import journal_path
from pipelines.targets import resolve_target
from pipelines.targets.duckdb import duckdb_env

from .scenario import WHSYNC, Warehouse, run_in_process, check_failure, check_progress, check_status, check_sync_run, record_history
from tests import forkserver
from tests.helpers import child_env


def _query(db):
    def run(sql: str) -> list[tuple]:
        con = duckdb.connect(str(db), read_only=True)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()
    return run

# one worker runs the whole module, so the synced history is built once (`make test` uses --dist loadgroup)
pytestmark = pytest.mark.xdist_group("runlog-duckdb")


@pytest.fixture(scope="module")
def wh(tmp_path_factory) -> Warehouse:
    db = (tmp_path_factory.mktemp("runlog") / "warehouse.duckdb").resolve()
    journal = journal_path(db)
    return record_history(Warehouse(
        name="duckdb", sync_kwargs={"target": resolve_target(duckdb=db)}, status_args=["--duckdb", str(db)], env={},
        query=_query(db), label=str(db),
        journal=lambda: [json.loads(line) for line in journal.read_text().splitlines()],
        journal_text=journal.read_text,
    ))


def test_sync_run_after_two_syncs(wh):
    check_sync_run(wh)


def test_progress_total_time_left_and_wall_clock_waits(wh):
    check_progress(wh)


def test_failed_sync_is_journaled_beside_the_file(wh):
    check_failure(wh)


def test_status(wh):
    check_status(wh)


def test_status_bad_configuration_exits_2(tmp_path):
    def status(*args):
        return run_in_process(["status", *args], {})

    p = forkserver.run([WHSYNC, "status", "--duckdb", str(tmp_path / "missing.duckdb")], capture_output=True,
                       text=True, timeout=60, env=child_env("WHSYNC_"))
    assert p.returncode == 2 and "no warehouse at" in p.stderr
    p = status("--duckdb", str(tmp_path / "missing.duckdb"), "--max-age", "26", "--json")
    assert p.returncode == 2 and "26h, 90m" in p.stderr and json.loads(p.stdout)["exit_code"] == 2
    (tmp_path / "notes.txt").write_text("not a warehouse")
    p = status("--duckdb", str(tmp_path / "notes.txt"))
    assert p.returncode == 2 and "is not a DuckDB database" in p.stderr
    p = status("--target", "snowflake")
    assert p.returncode == 2 and "choose duckdb or postgres" in p.stderr


def test_dbt_source_freshness_on_the_sync_time(wh, tmp_path):
    db = tmp_path / "fresh.duckdb"
    shutil.copyfile(wh.sync_kwargs["target"].path, db)
    select = ["--select", "source:benchling", "source:whsync"]
    seen: dict[str, str] = {}
    tables = ("users", "apps", "teams", "team_memberships", "projects", "folders", "user_activity", "tenant",
              "sync_run")

    def freshness() -> None:
        run_dbt("source freshness", duckdb_env(db), key=str(db), extra_args=select,
                on_node=lambda node, status: seen.__setitem__(node.split(".")[-1], status))

    freshness()
    assert seen == {t: "pass" for t in tables}
    con = duckdb.connect(str(db))
    try:  # three days pass without a sync
        for t in ("teams", "team_memberships", "projects", "folders", "tenant"):
            con.execute(f"update benchling_raw.{t} set _synced_at = _synced_at - interval 3 day")
        con.execute("update benchling_raw._dlt_loads set inserted_at = inserted_at - interval 3 day")
        con.execute("update sync_run set finished_at = finished_at - interval 3 day")
    finally:
        con.close()
    seen.clear()
    with pytest.raises(DbtBuildError, match="dbt source freshness failed"):
        freshness()
    assert seen == {t: "error" for t in tables}
