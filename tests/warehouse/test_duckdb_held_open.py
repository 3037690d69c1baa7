"""A DuckDB build held open (DuckDBBuild.held_open): inside the block every connection to the build file
joins one open database; a sync holds it for dlt's loads and then, separately, for dbt's build and the
publish, so dbt's database carries none of the database-wide settings dlt makes."""
from __future__ import annotations

import duckdb

import pipelines.runlog as whsync_runlog
import pipelines.sync as whsync_sync
from pipelines.targets import resolve_target

DEFAULT_THRESHOLD = duckdb.connect(":memory:").execute("select current_setting('checkpoint_threshold')").fetchone()[0]
SET = "77MB"
SET_THRESHOLD = duckdb.connect(":memory:").execute(f"set checkpoint_threshold = '{SET}'; "
                                                   "select current_setting('checkpoint_threshold')").fetchone()[0]


def _threshold(path) -> str:  # noqa: ANN001
    con = duckdb.connect(str(path))
    try:
        return con.execute("select current_setting('checkpoint_threshold')").fetchone()[0]
    finally:
        con.close()


def test_inside_the_block_connections_share_one_open_database(tmp_path):
    target = resolve_target(duckdb=tmp_path / "w.duckdb")
    with target.build() as b:
        with b.held_open():
            b.execute(f"set global checkpoint_threshold = '{SET}'")  # database-wide: seen by whoever joins it
            assert _threshold(b.path) == SET_THRESHOLD != DEFAULT_THRESHOLD
            b.execute("create table t as select 1 as x")
        assert _threshold(b.path) == DEFAULT_THRESHOLD  # closed: the next connection opens the file anew
        assert b.execute("select x from t") == [(1,)]  # and the WAL was folded into it
        with b.held_open():
            assert _threshold(b.path) == DEFAULT_THRESHOLD


def test_a_sync_holds_dbt_and_the_publish_apart_from_dlt(tmp_path, serve, tricky_tenant, run_sync, monkeypatch):
    seen: dict[str, str] = {}
    build_models, publish = whsync_sync.build_models, whsync_runlog.publish

    def before_dbt(b, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        seen["dbt starts"] = _threshold(b.path)  # dlt set 1GB on the database of its loads
        con = duckdb.connect(str(b.path))
        con.execute(f"set global checkpoint_threshold = '{SET}'")
        con.close()
        return build_models(b, *args, **kwargs)

    def at_publish(b, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        seen["publish"] = _threshold(b.path)  # still the database dbt built in
        return publish(b, *args, **kwargs)

    monkeypatch.setattr(whsync_sync, "build_models", before_dbt)
    monkeypatch.setattr(whsync_runlog, "publish", at_publish)
    result = run_sync(serve(tricky_tenant))
    assert result.counts["user"] > 0
    assert seen["dbt starts"] == DEFAULT_THRESHOLD
    assert seen["publish"] == SET_THRESHOLD
    assert _threshold(tmp_path / "warehouse.duckdb") == DEFAULT_THRESHOLD  # a setting, never in the file
