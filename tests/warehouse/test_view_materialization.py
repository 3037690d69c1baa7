"""The project's view materialization (macros/materializations/view.sql) replaces a view in place in the build:
a view an older release defined otherwise gets the model's definition, a table at a view's name is dropped and
the view made, the warehouse's contract-checked views (`user`, `project`, `folder`) still are, and nothing of
dbt's intermediate or backup relations is left behind."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import duckdb

from tests import forkserver

from .conftest import connect

WHSYNC = str(Path(sys.executable).with_name("whsync"))


def _relations(path: Path) -> dict[tuple[str, str], str]:
    with connect(path) as con:
        rows = con.execute("select schema_name, table_name, 'table' from duckdb_tables() where database_name = current_database() "
                           "union all select schema_name, view_name, 'view' from duckdb_views() "
                           "where database_name = current_database() and not internal").fetchall()
    return {(s, n): k for s, n, k in rows}


def _columns(path: Path, relation: str) -> list[str]:
    with connect(path) as con:
        return [d[0] for d in con.execute(f"select * from {relation} limit 0").description]


def _count(path: Path, relation: str) -> int:
    with connect(path) as con:
        return con.execute(f"select count(*) from {relation}").fetchone()[0]


def test_a_build_replaces_views_in_place_and_a_table_at_a_views_name(demo_warehouse, tmp_path):
    w = tmp_path / "warehouse.duckdb"
    shutil.copy(demo_warehouse, w)
    before = _relations(w)
    users_columns = _columns(w, "staging.stg_benchling__users")
    teams_columns = _columns(w, "staging.stg_benchling__teams")
    users_before = _count(w, 'main."user"')
    assert before[("staging", "stg_benchling__users")] == "view" and before[("main", "user")] == "view"
    with duckdb.connect(str(w)) as con:
        # as an older release might have left them: a view defined otherwise, a table where a view now is
        con.execute("create or replace view staging.stg_benchling__users as select 1 as old_column")
        con.execute("drop view staging.stg_benchling__teams")
        con.execute("create table staging.stg_benchling__teams as select 1 as old_column")
    p = forkserver.run([WHSYNC, "build", "--duckdb", str(w)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    after = _relations(w)
    assert after == before  # the same relations of the same kinds: nothing added, none left as a table
    assert _columns(w, "staging.stg_benchling__users") == users_columns
    assert _columns(w, "staging.stg_benchling__teams") == teams_columns
    assert not [n for _, n in after if "__dbt_tmp" in n or "__dbt_backup" in n]
    assert _count(w, 'main."user"') == users_before > 0  # a contract-checked warehouse view, rebuilt alike
