"""The data tests guard what is published: a key that is null or twice in the raw data fails the build, the
error names the failing tests, and the published warehouse is the previous one (the demo's, copied)."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import duckdb
from tests import forkserver

WHSYNC = str(Path(sys.executable).with_name("whsync"))


def _counts(path: Path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {t: con.execute(f'select count(*) from "{t}"').fetchone()[0] for t in ("team", "user", "user$raw")}


def test_a_duplicate_or_null_key_fails_the_build_and_publishes_nothing(demo_warehouse, tmp_path):
    w = tmp_path / "warehouse.duckdb"
    shutil.copy(demo_warehouse, w)
    before = _counts(w)
    with duckdb.connect(str(w)) as con:
        con.execute("insert into benchling_raw.teams select * from benchling_raw.teams limit 1")  # a team twice
        con.execute("alter table benchling_raw.users alter column id drop not null")  # as a bad load could leave it
        con.execute("insert into benchling_raw.users select * replace (null as id) from benchling_raw.users limit 1")
    p = forkserver.run([WHSYNC, "build", "--duckdb", str(w)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 1, p.stdout + p.stderr
    error = p.stderr.strip().splitlines()[-1]
    assert error.startswith("whsync: error: dbt build failed: ")
    assert "source_unique_not_null_benchling_teams_id: fail" in error  # the test's name, not its hash
    assert "source_unique_not_null_benchling_users_id: fail" in error
    assert _counts(w) == before  # nothing published: the warehouse is the one before the build
