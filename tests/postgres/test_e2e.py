"""The DuckDB end-to-end comparison (tests/warehouse/oracle.py), unchanged, against PostgreSQL; the
CLI's `--target postgres`; no password in any output."""
from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb

from pipelines.benchling.simulator import DEMO_API_KEY, BenchlingSimulator
from pipelines.progress import Progress
from pipelines.benchling.spec import benchling_plan, BenchlingConfig
from pipelines.targets import resolve_target
from pipelines.sync import sync

try:  # tests/ may or may not be a package (tests/__init__.py)
    from ..warehouse.oracle import assert_matches
except ImportError:
    from warehouse.oracle import assert_matches  # type: ignore[no-redef]
from .conftest import PgCon, whsync


def test_tricky_fixture_lands_row_for_row_in_postgres(synced_pg, tricky):
    server, dsn, p = synced_pg
    assert "postgresql://postgres@127.0.0.1" in p.stdout  # where it went, without the password
    assert server.password not in p.stdout + p.stderr
    con = PgCon(dsn)
    try:
        assert_matches(con, json.loads(json.dumps(tricky.to_dict())))
        # the types of Benchling's warehouse
        types = dict(con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'public' and table_name = 'user'").fetchall())
        assert types["created_at"] == "timestamp without time zone"
        assert types["is_suspended"] == "boolean"
        assert types["id"] in ("character varying", "text")
        # the warehouse lives in public; the views read the tables in public; nothing left in the build schema
        kinds = dict(con.execute(
            "select c.relname, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = 'public'").fetchall())
        assert kinds["user"] == "v" and kinds["user$raw"] == "r" and kinds["folder"] == "v"
        viewdef = con.execute("""select pg_get_viewdef('public."user"'::regclass)""").fetchone()[0]
        assert 'public."user$raw"' in viewdef or '"user$raw"' in viewdef and "__build" not in viewdef
        deps = con.execute(
            "select distinct t.relnamespace::regnamespace::text from pg_depend d "
            "join pg_rewrite r on r.oid = d.objid join pg_class v on v.oid = r.ev_class "
            "join pg_class t on t.oid = d.refobjid "
            "where v.relnamespace = 'public'::regnamespace and t.oid <> v.oid").fetchall()
        assert deps == [("public",)]
        schemas = {r[0] for r in con.execute("select nspname from pg_namespace").fetchall()}
        assert {"benchling_raw", "staging", "public"} <= schemas and "public__build" not in schemas
    finally:
        con.close()


def test_wrong_password_fails_in_one_line_without_printing_it(pg_server, tmp_path):
    secret = "not-the-password-s3cret"
    dsn = f"postgresql://postgres:{secret}@127.0.0.1:{pg_server.port}/postgres"
    p = whsync(["build", "--target", "postgres"], tmp_path, {"WHSYNC_POSTGRES_DSN": dsn})
    assert p.returncode == 1, p.stderr
    assert "cannot connect to postgresql://postgres@127.0.0.1" in p.stderr
    assert secret not in p.stdout + p.stderr
    errors = [l for l in p.stderr.splitlines() if l.startswith("whsync: error:")]
    assert len(errors) == 1


def test_bad_or_missing_dsn_is_a_config_error(tmp_path):
    p = whsync(["build", "--target", "postgres"], tmp_path, {})
    assert p.returncode == 2 and "WHSYNC_POSTGRES_DSN" in p.stderr
    p = whsync(["build", "--target", "postgres"], tmp_path, {"WHSYNC_POSTGRES_DSN": "postgresql://u:pw-x9@h:notaport/db"})
    assert p.returncode == 2 and "pw-x9" not in p.stdout + p.stderr
    p = whsync(["build", "--target", "nosuch"], tmp_path, {})
    assert p.returncode == 2 and "--target" in p.stderr


# access_*.sql join Benchling with Paradime and Bencher: test_people_e2e.py runs them on three systems;
# directory_*.sql need the directory (Okta): tests/okta/test_okta_e2e.py runs them on both targets
QUERIES = sorted(q for q in (Path(__file__).resolve().parents[2] / "examples" / "queries").glob("*.sql")
                 if not q.name.startswith(("access_", "directory_")))


def _normalize(rows, times=True):
    # drivers differ only in numeric types (DuckDB HUGEINT/int vs PostgreSQL bigint/Decimal); history
    # queries show sync start times, which differ between the two warehouses (synced one after the other)
    return sorted((tuple(int(v) if isinstance(v, Decimal) else "<time>" if not times and isinstance(v, datetime) else v
                        for v in r) for r in rows), key=repr)


def test_example_queries_give_identical_results_on_duckdb_and_postgres(synced_pg, tricky, tmp_path):
    assert len(QUERIES) >= 5
    with BenchlingSimulator(tricky, api_key=DEMO_API_KEY, rate_limit="off") as sim:
        res = sync(plans=[benchling_plan(BenchlingConfig(sim.base_url, api_key=DEMO_API_KEY))],
                   target=resolve_target(duckdb=tmp_path / "w.duckdb"), progress=Progress(quiet=True))
    duck = duckdb.connect(str(res.warehouse), read_only=True)
    pgc = PgCon(synced_pg[1])
    try:
        for q in QUERIES:
            sql = q.read_text()
            times = not q.name.startswith("history_")
            d = _normalize(duck.execute(sql).fetchall(), times)
            p = _normalize(pgc.execute(sql).fetchall(), times)
            assert d, f"{q.name} returns nothing on the fixture: it proves nothing"
            assert d == p, f"{q.name}: DuckDB and PostgreSQL differ"
    finally:
        duck.close()
        pgc.close()
