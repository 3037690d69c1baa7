"""`whsync sql --target postgres` on a real server: the query result, a bad query in one line,
the session is read-only, and the password never shows; `whsync docs --target postgres` documents
every warehouse relation with the columns it really has."""
from __future__ import annotations

import json

import psycopg2

from pipelines.catalog import WAREHOUSE_TABLES

from .conftest import WHSYNC, whsync
from tests import forkserver
from tests.helpers import child_env

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


ESCAPES = [  # issue 25's escapes, verbatim but for the elided statement, which creates a table here
    "set default_transaction_read_only = off; commit; create table escaped (a int)",
    "commit; set transaction read write; create table escaped (a int)",
    "begin read write; create table escaped (a int); commit",
    "select 1; commit; create table escaped (a int)",
    "set default_transaction_read_only = off",
    "create table escaped (a int)",
    "do $$ begin create table escaped (a int); end $$",
    "select 1 $$;$$; create table escaped (a int)",
    "select archived$ from project$raw; create table escaped (a int)",
    "select 1 /* /* */ ; */; create table escaped (a int)",
    'delete from "user$raw"',
    'with d as (delete from "user$raw" returning 1) select count(*) from d',
    'select * into escaped from "user$raw"',
]


def _state(dsn):
    with psycopg2.connect(dsn) as con, con.cursor() as cur:
        cur.execute("select n.nspname, c.relname, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace "
                    "where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast') order by 1, 2")
        rels = cur.fetchall()
        cur.execute('select count(*) from public."user$raw"')
        return rels, cur.fetchone()[0]


def test_sql_cannot_escape_its_read_only_transaction(synced_pg, tmp_path):
    server, dsn, _ = synced_pg
    env = {"WHSYNC_POSTGRES_DSN": dsn}
    before = _state(dsn)
    assert before[1] > 0
    for query in ESCAPES:
        p = whsync(["sql", "--target", "postgres", query], tmp_path, env)
        assert p.returncode == 1, (query, p.stdout, p.stderr)
        assert len(p.stderr.strip().splitlines()) == 1, p.stderr
        assert _state(dsn) == before, query
    # the same statements one by one on standard input (as a pasted script): the first refusal ends it
    script = "set default_transaction_read_only = off;\ncommit;\ncreate table escaped (a int);\n"
    p = forkserver.run([WHSYNC, "sql", "--target", "postgres"], input=script, capture_output=True, text=True,
                       env={**_clean_env(), **env}, timeout=120)
    assert p.returncode == 1 and _state(dsn) == before
    # a session setting changed by a select is undone with its statement's transaction
    p = forkserver.run([WHSYNC, "sql", "--target", "postgres", "-f", "csv"], capture_output=True, text=True,
                       input="select set_config('default_transaction_read_only', 'off', false) as s;\n"
                             "show default_transaction_read_only;\nshow transaction_read_only;\n",
                       env={**_clean_env(), **env}, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["s", "off", "default_transaction_read_only", "on", "transaction_read_only", "on"]
    # reads with ; and $ inside strings, comments and names still work
    p = whsync(["sql", "--target", "postgres", "-f", "csv",
                "select ';' as a, $x$;$x$ as b, E'\\';' as c /* ; */ from project$raw limit 1 -- ;\n;"], tmp_path, env)
    assert p.returncode == 0 and p.stdout.splitlines() == ["a,b,c", ";,;,';"], p.stderr


def test_sql_search_path_is_the_warehouse_schema_only(synced_pg, tmp_path):
    """A sandbox schema without `access` must not answer with the public warehouse's rows."""
    server, dsn, _ = synced_pg
    with psycopg2.connect(dsn) as con, con.cursor() as cur:
        cur.execute("create schema if not exists sandbox")
    try:
        env = {"WHSYNC_POSTGRES_DSN": dsn}
        p = whsync(["sql", "--target", "postgres", "--schema", "sandbox", "select count(*) from access"], tmp_path, env)
        assert p.returncode == 1 and p.stderr.strip() == 'whsync: error: relation "access" does not exist', p.stderr
        p = whsync(["sql", "--target", "postgres", "-f", "csv", "show search_path"], tmp_path, env)
        assert p.returncode == 0 and p.stdout.splitlines()[1] == "public", p.stdout
    finally:
        with psycopg2.connect(dsn) as con, con.cursor() as cur:
            cur.execute("drop schema sandbox")


def test_sql_uses_the_reader_dsn_when_set(synced_pg, tmp_path):
    """WHSYNC_POSTGRES_READER_DSN: the server refuses every write whatever the SQL (a grant-reader role)."""
    server, dsn, _ = synced_pg
    with psycopg2.connect(dsn) as con, con.cursor() as cur:
        cur.execute("select current_user")
        owner = cur.fetchone()[0]
        cur.execute("drop role if exists whsync_sql_reader")
        cur.execute("create role whsync_sql_reader login password 'reader-pw'")
    p = whsync(["grant-reader", "whsync_sql_reader"], tmp_path, {"WHSYNC_POSTGRES_DSN": dsn})
    assert p.returncode == 0, p.stderr
    reader = psycopg2.extensions.make_dsn(dsn, user="whsync_sql_reader", password="reader-pw")
    env = {"WHSYNC_POSTGRES_DSN": dsn, "WHSYNC_POSTGRES_READER_DSN": reader}
    p = whsync(["sql", "--target", "postgres", "-f", "csv", 'select current_user, count(*) as n from "user"'], tmp_path, env)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[1].startswith("whsync_sql_reader,") and owner != "whsync_sql_reader"
    assert "reader-pw" not in p.stdout + p.stderr


def _clean_env():
    import os
    return child_env("BENCHLING_", "WHSYNC_", "PG", "DESTINATION__")
