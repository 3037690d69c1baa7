"""The target interface itself, the same test on DuckDB and PostgreSQL: a relation carried from the
published warehouse into each build is extended there and published with it (as `<table>$history`
and `sync_run` will be); a failed build publishes nothing; the journal is written outside the swap;
the reader is read-only; and the targets never import the sync."""
from __future__ import annotations

import subprocess
import sys

import pytest

from pipelines.targets import WAREHOUSE, Target


def _runs(target: Target) -> list[int]:
    with target.reader() as con:
        return [r[0] for r in con.execute("select n from sync_run order by n").fetchall()]


def test_carried_relations_are_extended_in_the_build_and_published_with_it(target):
    for n in (1, 2):
        with target.lock(0), target.build() as b:
            carried = b.carry(WAREHOUSE, "sync_run")
            assert carried == (n > 1)
            if not carried:
                b.execute(f"create table {b.relation(WAREHOUSE, 'sync_run')} (n integer)")
            b.execute(f"insert into {b.relation(WAREHOUSE, 'sync_run')} values ({n})")
            # a relation not carried is made anew (a DuckDB build still holds the published one)
            b.execute(f"drop table if exists {b.relation('paradime', 'marker')}")
            b.execute(f"create table {b.relation('paradime', 'marker')} (n integer)")
            if n == 2:  # unpublished until the block ends
                assert _runs(target) == [1]
    assert _runs(target) == [1, 2]
    assert target.counts([(WAREHOUSE, "sync_run"), ("paradime", "marker"), (WAREHOUSE, "nope")]) == {
        "sync_run": 2, "paradime.marker": 0, "nope": None}

    # a failing build publishes nothing; the journal, outside the swap, keeps its row
    with pytest.raises(RuntimeError, match="boom"):
        with target.lock(0), target.build() as b:
            b.carry(WAREHOUSE, "sync_run")
            b.execute(f"insert into {b.relation(WAREHOUSE, 'sync_run')} values (3)")
            raise RuntimeError("boom")
    with target.lock(0):
        target.journal("create table if not exists sync_failure (msg varchar)")
        target.journal("insert into sync_failure values ('boom')")
    assert _runs(target) == [1, 2]
    with target.lock(0), target.build() as b:  # the journal survives the next publish
        b.carry(WAREHOUSE, "sync_run")
    with target.reader() as con:
        assert con.execute("select msg from sync_failure").fetchall() == [("boom",)]
        with pytest.raises(Exception):  # noqa: B017 - DuckDB and psycopg2 raise their own read-only errors
            con.execute("insert into sync_run values (9)")
    assert _runs(target) == [1, 2]


def test_the_targets_never_import_the_sync():
    code = ("import sys, pipelines.targets.duckdb, pipelines.targets.postgres, pipelines.targets.pgconn; "
            "assert 'pipelines.sync' not in sys.modules, 'a target imported the sync'")
    subprocess.run([sys.executable, "-c", code], check=True)
