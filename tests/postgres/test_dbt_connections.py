"""dbt-postgres keeps one connection per dbt thread for a whole command (pipelines/dbt_connections.py): a build
opens a handful of connections, not one per node; a node's open transaction is still rolled back at its end;
a broken connection is closed and replaced as dbt would; and nothing is left open after the command. The
build's own statements share one connection per phase (`PostgresBuild.held_open`), each still its own
transaction."""
from __future__ import annotations

import multiprocessing
import re
import time
from pathlib import Path
from types import SimpleNamespace

import psycopg2
import pytest
from dbt.adapters.base.connections import BaseConnectionManager
from dbt.adapters.contracts.connection import Connection, ConnectionState
from dbt.adapters.postgres.connections import PostgresConnectionManager

from pipelines import dbt_connections
from pipelines.benchling.simulator import DEMO_API_KEY, BenchlingSimulator
from pipelines.benchling.spec import BenchlingConfig, benchling_plan
from pipelines.progress import Progress
from pipelines.sync import sync
from pipelines.targets import resolve_target

ROOT = Path(__file__).resolve().parents[2]


def test_a_sync_opens_one_dbt_connection_per_thread_and_leaves_none_open(pg, tricky, monkeypatch):
    opened: list[str] = []
    connect = psycopg2.connect

    def counting(*args, **kwargs):  # noqa: ANN002, ANN003 - psycopg2.connect's own
        opened.append(kwargs.get("application_name") or "")
        return connect(*args, **kwargs)

    monkeypatch.setattr(psycopg2, "connect", counting)
    with BenchlingSimulator(tricky, api_key=DEMO_API_KEY, rate_limit="off") as sim:
        result = sync(plans=[benchling_plan(BenchlingConfig(sim.base_url, api_key=DEMO_API_KEY))],
                      target=resolve_target(postgres=pg), progress=Progress(quiet=True))
    assert result.dbt.models >= 30 and result.dbt.tests >= 50 and not result.dbt.failures
    dbt_opened = opened.count("dbt")
    # the profile's 4 threads and dbt's own connection for the command (one per node would be ~150)
    assert 1 <= dbt_opened <= 5, opened
    # whsync's own: the lock, the previous run, one per held phase (dlt's loads; dbt's build and the publish),
    # the publish, the counts (one per statement would be ~38)
    assert 1 <= opened.count("whsync") <= 10, opened
    assert PostgresConnectionManager.release is BaseConnectionManager.release  # dbt's own again after the command
    con = psycopg2.connect(pg.dsn)
    try:
        cur = con.cursor()
        cur.execute("select count(*) from pg_stat_activity where application_name = 'dbt'")
        assert cur.fetchone()[0] == 0  # dbt closed what it kept when the command ended
    finally:
        con.close()


def _manager_with(handle) -> tuple[PostgresConnectionManager, Connection]:  # noqa: ANN001 - a psycopg2 connection
    mgr = PostgresConnectionManager(SimpleNamespace(), multiprocessing.get_context("spawn"))
    conn = Connection(type="postgres", name="model.whsync.user", state=ConnectionState.OPEN, transaction_open=False,
                      handle=handle, credentials=None)
    mgr.set_thread_connection(conn)
    return mgr, conn


def _table_exists(dsn: str, name: str) -> bool:
    con = psycopg2.connect(dsn)
    try:
        cur = con.cursor()
        cur.execute("select to_regclass(%s) is not null", (name,))
        return cur.fetchone()[0]
    finally:
        con.close()


def test_a_nodes_open_transaction_is_rolled_back_and_its_connection_kept(pg):
    handle = psycopg2.connect(pg.dsn)
    mgr, conn = _manager_with(handle)
    handle.cursor().execute("create table left_uncommitted (id int)")  # psycopg2 opened a transaction
    conn.transaction_open = True
    with dbt_connections.kept_between_nodes():
        mgr.release()
    assert conn.state == ConnectionState.OPEN and conn.handle is handle and not handle.closed
    assert conn.transaction_open is False
    assert not _table_exists(pg.dsn, "left_uncommitted")  # rolled back, as closing it did
    handle.cursor().execute("select 1")  # and it serves the next node
    # outside a command, release is dbt's own: it closes the connection
    mgr.release()
    assert conn.state == ConnectionState.CLOSED and handle.closed


def test_a_connection_the_server_ended_is_closed_and_replaced(pg):
    handle = psycopg2.connect(pg.dsn)
    mgr, conn = _manager_with(handle)
    cur = handle.cursor()
    cur.execute("select pg_backend_pid()")
    pid = cur.fetchone()[0]
    conn.transaction_open = True  # a node's transaction, open when the server went away
    admin = psycopg2.connect(pg.dsn)
    admin.autocommit = True
    try:
        cur = admin.cursor()
        cur.execute("select pg_terminate_backend(%s)", (pid,))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # gone from the server before the node ends
            cur.execute("select count(*) from pg_stat_activity where pid = %s", (pid,))
            if cur.fetchone()[0] == 0:
                break
            time.sleep(0.05)
    finally:
        admin.close()
    with dbt_connections.kept_between_nodes():
        mgr.release()
    # closed as dbt closes it, so the next node's `connection_named` opens a new one
    assert conn.state == ConnectionState.CLOSED and handle.closed and conn.transaction_open is False
    with dbt_connections.kept_between_nodes():  # a connection already closed: nothing to keep, no error
        mgr.release()
    assert conn.state == ConnectionState.CLOSED


# what would make a kept connection carry one node's session into the next (a statement that starts with `set`,
# not an update's `set`)
SESSION_STATE = re.compile(
    r"(?:^|;)\s*set\s+(?!local\b)(session\s+)?[a-z_.]+\s*(=|\bto\b)|\bset\s+role\b|^\s*reset\b|pg_advisory_lock\b"
    r"|\bprepare\s+\w+|\blisten\b|\bcreate\s+(local\s+)?temp(orary)?\b",
    re.IGNORECASE | re.MULTILINE)


def _sql_of(path: Path) -> str:
    """A model's or macro's text without comments and without Jinja's own `{% set %}` (a template variable)."""
    text = re.sub(r"--[^\n]*|\{#.*?#\}", "", path.read_text(), flags=re.S)
    return re.sub(r"\{%-?\s*(set|endset)\b", "{%", text)


def test_no_model_test_or_macro_keeps_session_state():
    found = [f"{p.relative_to(ROOT)}: {m.group(0)}" for d in ("models", "macros") for p in sorted((ROOT / d).rglob("*.sql"))
             for m in SESSION_STATE.finditer(_sql_of(p))]
    assert found == [], "a kept connection would carry these into the next node: " + "; ".join(found)


@pytest.mark.parametrize("sql", ["set search_path = x", "select 1; set session statement_timeout to 0", "SET ROLE reporting", "select pg_advisory_lock(1)",
                                 "create temporary table t (i int)"])
def test_the_session_state_check_finds_what_it_looks_for(sql, tmp_path):
    (tmp_path / "m.sql").write_text("{% set x = 1 %}\nselect 1 -- set role in a comment\n;" + sql)
    assert SESSION_STATE.search(_sql_of(tmp_path / "m.sql"))
    (tmp_path / "m.sql").write_text("{% set x = 1 %}{%- set y -%}z{%- endset %}select 1 -- set role x\nupdate t set a = 1;")
    assert not SESSION_STATE.search(_sql_of(tmp_path / "m.sql"))


def test_a_held_connection_keeps_each_block_its_own_transaction(pg):
    target = resolve_target(postgres=pg)
    with target.build() as b, b.held_open():
        with pytest.raises(psycopg2.Error, match="division by zero"):
            b.execute("create table public.half_done (id int); select 1 / 0")
        assert b.execute("select 1") == [(1,)]  # the held connection serves the next statement
        b.execute("create table public.committed_by_execute as select 1 as id")  # execute commits its statement
        with b._connect() as con:
            con.cursor().execute("create table public.never_committed (id int)")  # a block that does not commit
    assert not _table_exists(pg.dsn, "public.half_done") and not _table_exists(pg.dsn, "public.never_committed")
    assert _table_exists(pg.dsn, "public.committed_by_execute")
