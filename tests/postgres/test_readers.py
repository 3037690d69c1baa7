"""Readers during a sync, and the read-only reporting role, with real logins on a real server."""
from __future__ import annotations

import psycopg2
import pytest
import requests

from pipelines.benchling.simulator import DEMO_API_KEY, BenchlingSimulator
from pipelines.progress import Progress
from pipelines.benchling.spec import benchling_plan, BenchlingConfig
from pipelines.catalog import WAREHOUSE_TABLES
from pipelines.targets import resolve_target
from pipelines.sync import sync

from .conftest import reading_in_a_loop, whsync

RAW = ["user", "principal", "team", "team_member", "project", "folder"]
# one statement = one snapshot: the sync time of every $raw table and the row count of every view
SNAPSHOT = "select " + ", ".join(
    [f'(select max(_synced_at) from "{t}$raw")' for t in RAW] + [f'(select count(*) from "{t}")' for t in RAW])


def _login(server, db: str, user: str, password: str):
    con = psycopg2.connect(server.dsn(db, user=user, password=password))
    con.autocommit = True
    return con


def test_reader_sees_old_or_new_warehouse_and_reporting_role_is_read_only(pg_server, pg, tricky, tmp_path):
    db = pg.dbname
    with BenchlingSimulator(tricky, api_key=DEMO_API_KEY, rate_limit="off") as sim:
        cfg = BenchlingConfig(sim.base_url, api_key=DEMO_API_KEY)
        sync(plans=[benchling_plan(cfg)], target=resolve_target(postgres=pg), progress=Progress(quiet=True))

        # the reporting role: a real LOGIN role with a password, granted through the CLI
        with pg.connect(autocommit=True) as admin:
            admin.cursor().execute("create role reporter login password 'rep-pw'")
        p = whsync(["grant-reader", "reporter"], tmp_path, {"WHSYNC_POSTGRES_DSN": pg_server.dsn(db)})
        assert p.returncode == 0, p.stderr
        assert pg_server.password not in p.stdout + p.stderr
        p = whsync(["grant-reader", "nobody"], tmp_path, {"WHSYNC_POSTGRES_DSN": pg_server.dsn(db)})
        assert p.returncode == 2 and "role 'nobody' does not exist" in p.stderr

        reader = _login(pg_server, db, "reporter", "rep-pw")
        cur = reader.cursor()
        cur.execute(SNAPSHOT)
        first = cur.fetchone()
        assert len(set(first[:6])) == 1

        # a second sync with a change, while the reporter reads in a loop on its own connection
        user = next(u for u in tricky.to_dict()["users"] if not u["isSuspended"])
        r = requests.patch(f"{sim.base_url}/users/{user['id']}", json={"isSuspended": True}, auth=(DEMO_API_KEY, ""))
        assert r.status_code == 200
        with reading_in_a_loop(reader, SNAPSHOT, lambda c: c.fetchone()) as (seen, errors):
            sync(plans=[benchling_plan(cfg)], target=resolve_target(postgres=pg), progress=Progress(quiet=True))
    assert not errors, errors[:3]
    assert len(seen) > 20
    assert all(len(set(s[:6])) == 1 for s in seen), "a reader saw $raw tables of two different syncs"
    stamps = [s[0] for s in seen]
    assert stamps[0] == first[0] and stamps[-1] > first[0], "the reader saw the old, then the new warehouse"
    assert {s[6:] for s in seen if s[0] == first[0]} == {first[6:]}

    # the grants survived the swap: the reporter reads every view and $raw table...
    for name in WAREHOUSE_TABLES:
        cur.execute(f'select count(*) from "{name}"')
    cur.execute('select is_suspended from "user" where id = %s', (user["id"],))
    assert cur.fetchone() == (True,)
    # ...and is refused on raw, dlt's tables and staging
    for rel in ["benchling_raw.users", "benchling_raw._dlt_loads", "benchling_raw._dlt_pipeline_state",
                "staging.stg_benchling__users"]:
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute(f"select 1 from {rel} limit 1")
    # read-only: cannot write the warehouse or create objects in its schema
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        cur.execute("""delete from "user$raw" """)
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        cur.execute("create table public.mine (x int)")
    reader.close()
