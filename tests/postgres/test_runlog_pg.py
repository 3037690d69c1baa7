"""The run log on PostgreSQL: the scenario of tests/runlog/scenario.py, with the failure journal in
the `whsync_sync_failure` table (outside the relations a publish swaps)."""
from __future__ import annotations

import json

import pytest

from pipelines.targets import resolve_target
from pipelines.targets.pgconn import PgConfig

try:  # tests/ may or may not be a package (tests/__init__.py)
    from ..runlog.scenario import Warehouse, check_failure, check_progress, check_status, check_sync_run, record_history
except ImportError:
    from runlog.scenario import Warehouse, check_failure, check_progress, check_status, check_sync_run, record_history  # type: ignore[no-redef]
from .conftest import PgCon

# one worker runs the whole module, so the synced history is built once (`make test` uses --dist loadgroup)
pytestmark = pytest.mark.xdist_group("runlog-postgres")


@pytest.fixture(scope="module")
def wh(pg_server) -> Warehouse:
    dsn = pg_server.dsn(pg_server.create_database())

    def query(sql: str) -> list[tuple]:
        con = PgCon(dsn)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    def journal() -> list[dict]:
        rows = query("select run_id, target, sources, cause, exit_code from whsync_sync_failure order by failed_at")
        return [{"run_id": r[0], "target": r[1], "sources": json.loads(r[2]), "cause": r[3], "exit_code": r[4]}
                for r in rows]

    target = resolve_target(postgres=PgConfig.from_dsn(dsn))
    return record_history(Warehouse(
        name="postgres", sync_kwargs={"target": target}, status_args=["--target", "postgres"],
        env={"WHSYNC_POSTGRES_DSN": dsn}, query=query, journal=journal, label=target.label(),
        journal_text=lambda: repr(query("select * from whsync_sync_failure")),
    ))


def test_sync_run_after_two_syncs(wh):
    check_sync_run(wh)
    # published with the warehouse (in public), nothing left in the build schema
    assert wh.query("select table_schema from information_schema.tables where table_name = 'sync_run'") == [("public",)]


def test_progress_total_time_left_and_wall_clock_waits(wh):
    check_progress(wh)


def test_failed_sync_is_journaled_in_a_table(wh):
    check_failure(wh)


def test_status(wh):
    check_status(wh)
