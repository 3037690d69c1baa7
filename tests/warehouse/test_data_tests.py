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


def test_a_key_of_two_columns_twice_fails_the_build_naming_its_test(tmp_path):
    """`unique_key` (macros/tests/unique_key.sql): a team membership twice in the raw data fails the build at the
    staging model whose key it breaks, and the error names that test. (A null in a key column is stopped
    earlier, by the source's own `not_null`: test_a_duplicate_or_null_key_fails_the_build_and_publishes_nothing.)"""
    from pipelines.benchling.simulator import DEMO_API_KEY, BenchlingSimulator, Tenant
    from pipelines.benchling.spec import BenchlingConfig, benchling_plan
    from pipelines.progress import Progress
    from pipelines.sync import sync
    from pipelines.targets import resolve_target

    w = tmp_path / "warehouse.duckdb"
    with BenchlingSimulator(Tenant.load(Path(__file__).parents[1] / "fixtures" / "benchling_tricky.json"),
                            api_key=DEMO_API_KEY, rate_limit="off") as sim:
        sync(plans=[benchling_plan(BenchlingConfig(sim.base_url, api_key=DEMO_API_KEY))],
             target=resolve_target(duckdb=w), progress=Progress(quiet=True), build=False)
    with duckdb.connect(str(w)) as con:
        con.execute("insert into benchling_raw.team_memberships select * from benchling_raw.team_memberships limit 1")
    p = forkserver.run([WHSYNC, "build", "--duckdb", str(w)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 1, p.stdout + p.stderr
    error = p.stderr.strip().splitlines()[-1]
    assert "unique_key_stg_benchling__team_memberships_team_id__member_id: fail" in error, error
