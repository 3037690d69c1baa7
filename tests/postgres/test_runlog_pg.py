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
from .conftest import PgCon, whsync

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


def test_status_as_a_grant_reader_role_sees_the_failure(wh, tmp_path):
    """A least-privilege health check: `whsync status` connected as a role made by `grant-reader` says
    FAILED (exit 1) like the owner; a role that may not read the journal gets an error, never FRESH."""
    import psycopg2
    import psycopg2.extensions

    dsn = wh.env["WHSYNC_POSTGRES_DSN"]
    with psycopg2.connect(dsn) as con, con.cursor() as cur:
        cur.execute("drop role if exists status_reader")
        cur.execute("create role status_reader login password 'status-pw'")
    p = wh.status("--max-age", "26h", subprocess_=True)  # the owner: FAILED
    assert p.returncode == 1 and "FAILED" in p.stdout
    owner_env = wh.env
    try:
        p = whsync(["grant-reader", "status_reader"], tmp_path, owner_env)  # as the owner
        assert p.returncode == 0 and "whsync_sync_failure" in p.stdout, p.stderr
        wh.env = {"WHSYNC_POSTGRES_DSN": psycopg2.extensions.make_dsn(dsn, user="status_reader", password="status-pw")}
        p = wh.status("--max-age", "26h", subprocess_=True)
        assert p.returncode == 1, p.stdout + p.stderr
        assert "FAILED" in p.stdout and "API key was refused by 127.0.0.1 (HTTP 401)" in p.stdout
        with psycopg2.connect(dsn) as con, con.cursor() as cur:
            cur.execute("revoke select on whsync_sync_failure from status_reader")
        p = wh.status("--max-age", "26h", subprocess_=True)
        assert p.returncode != 0 and "FRESH" not in p.stdout
        assert "permission denied" in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
    finally:
        wh.env = owner_env
