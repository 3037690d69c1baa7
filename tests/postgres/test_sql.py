"""`whsync sql --target postgres` on a real server: the query result, a bad query in one line,
the session is read-only, and the password never shows; `whsync docs --target postgres` documents
every warehouse relation with the columns it really has."""
from __future__ import annotations

import json

import psycopg2

from pipelines.catalog import WAREHOUSE_TABLES

from .conftest import whsync

QUERY = 'select id, handle, is_suspended from "user" order by id'


def test_sql_reads_the_postgres_warehouse_read_only(synced_pg, tmp_path):
    server, dsn, _ = synced_pg
    env = {"WHSYNC_POSTGRES_DSN": dsn}
    with psycopg2.connect(dsn) as con, con.cursor() as cur:
        cur.execute(f"set search_path to public; {QUERY}")
        rows = cur.fetchall()
    assert rows

    p = whsync(["sql", "--target", "postgres", "--format", "json", QUERY], tmp_path, env)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == [{"id": a, "handle": b, "is_suspended": c} for a, b, c in rows]

    p = whsync(["sql", "--target", "postgres", "-f", "csv",
                'select "archive_purpose$", count(*) from "project$raw" group by 1 order by 1'], tmp_path, env)
    assert p.returncode == 0 and p.stdout.splitlines()[0] == "archive_purpose$,count", p.stderr

    p = whsync(["sql", "--target", "postgres", "select * from no_such_table"], tmp_path, env)
    assert p.returncode == 1 and p.stdout == ""
    assert p.stderr.strip() == 'whsync: error: relation "no_such_table" does not exist'

    p = whsync(["sql", "--target", "postgres", 'delete from "user$raw"'], tmp_path, env)
    assert p.returncode == 1 and "read-only transaction" in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
    with psycopg2.connect(dsn) as con, con.cursor() as cur:
        cur.execute('select count(*) from public."user$raw"')
        assert cur.fetchone()[0] > 0

    for out in (p.stdout, p.stderr):
        assert server.password not in out

    p = whsync(["sql", "--target", "postgres", "select 1"], tmp_path, {})
    assert p.returncode == 2 and "WHSYNC_POSTGRES_DSN" in p.stderr


def test_docs_of_the_postgres_warehouse_lists_its_relations(synced_pg, tmp_path):
    server, dsn, _ = synced_pg
    out = tmp_path / "site"
    p = whsync(["docs", "--target", "postgres", "--out", str(out), "-q"], tmp_path, {"WHSYNC_POSTGRES_DSN": dsn})
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == (out / "index.html").resolve().as_uri()
    assert server.password not in p.stdout + p.stderr + (out / "index.html").read_text()
    catalog = json.loads((out / "catalog.json").read_text())
    documented = {(n["metadata"]["schema"], n["metadata"]["name"]): set(n["columns"]) for n in catalog["nodes"].values()}
    with psycopg2.connect(dsn) as con, con.cursor() as cur:
        for table in WAREHOUSE_TABLES:  # the relations (and their columns) really in the database
            cur.execute("select column_name from information_schema.columns where table_schema = 'public' "
                        "and table_name = %s", (table,))
            assert documented[("public", table)] == {r[0] for r in cur.fetchall()}, table
