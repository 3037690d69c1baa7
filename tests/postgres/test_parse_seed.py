"""dbt's parse is shared between PostgreSQL databases (pipelines/dbt_parse_cache.py): a build into a new
database starts from the parse made in another one, its database name rewritten where dbt wrote it, and dbt
parses nothing again; the warehouse it builds is the one a full parse builds."""
from __future__ import annotations

import json
from pathlib import Path

from pipelines import dbt_parse_cache
from pipelines.benchling.simulator import DEMO_API_KEY, BenchlingSimulator
from pipelines.targets.pgconn import PgConfig

from .conftest import PgCon, whsync

try:
    from ..warehouse.oracle import assert_matches
except ImportError:
    from warehouse.oracle import assert_matches  # type: ignore[no-redef]


def _parses(cache: Path) -> dict[str, tuple[str, dict]]:
    """Each dbt work dir under the cache: the database its parse names -> (dbt's log, the parse)."""
    out = {}
    for work in (cache / "dbt").iterdir():
        parse = dbt_parse_cache._load((work / "target" / dbt_parse_cache.PARTIAL_PARSE).read_bytes())
        dbs = {n["database"] for n in parse["nodes"].values() if n["resource_type"] == "model"}
        assert len(dbs) == 1, dbs
        out[dbs.pop()] = ((work / "logs" / "dbt.log").read_text(errors="replace"), parse)
    return out


def test_a_new_database_builds_from_the_parse_made_in_another(pg_server, tricky, tmp_path: Path) -> None:
    cache = tmp_path / "cache"  # this test's own dbt work dirs and seeds: the first build parses in full
    dsns = [pg_server.dsn(pg_server.create_database()) for _ in range(2)]
    with BenchlingSimulator(tricky, api_key=DEMO_API_KEY, rate_limit="off") as sim:
        for dsn in dsns:
            p = whsync(["sync", "--target", "postgres", "--base-url", sim.base_url, "-q"], tmp_path,
                       {"WHSYNC_POSTGRES_DSN": dsn, "BENCHLING_API_KEY": DEMO_API_KEY, "WHSYNC_CACHE_DIR": str(cache)})
            assert p.returncode == 0, p.stderr
    seeds = list((cache / "dbt-seeds").glob("*.msgpack"))
    assert len(seeds) == 1  # one shape: the same server, schema and settings, two databases

    first_db, db = (PgConfig.from_dsn(dsn).params["dbname"] for dsn in dsns)
    parses = _parses(cache)
    assert set(parses) == {first_db, db}
    (first_log, _), (second_log, second) = parses[first_db], parses[db]
    # (a sync's dbt log is at the info level: dbt says there when, and why, it parses the project in full)
    assert "Unable to do partial parsing because saved manifest not found. Starting full parse." in first_log
    assert "Unable to do partial parsing" not in second_log and "full parse" not in second_log, second_log[:3000]
    models = [n for n in second["nodes"].values() if n["resource_type"] == "model"]
    assert {n["database"] for n in models} == {db}
    assert all(n["relation_name"].startswith(f'"{db}".') for n in models if n.get("relation_name"))
    assert first_db not in json.dumps(second, default=str)

    for dsn in dsns:  # both warehouses are the tenant, table for table
        con = PgCon(dsn)
        try:
            assert_matches(con, json.loads(json.dumps(tricky.to_dict())))
        finally:
            con.close()
