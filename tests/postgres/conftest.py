"""A real PostgreSQL server for the session (one per xdist worker), a fresh database per use, and a
synced copy of the tricky tenant shared by the read-only tests of a module."""
from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import psycopg2
import pytest

from pipelines.benchling.simulator import DEMO_API_KEY, BenchlingSimulator, Tenant
from pipelines.targets.pgconn import PgConfig

from .pgserver import PgServer
from tests import forkserver
from tests.helpers import child_env

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
WHSYNC = str(Path(sys.executable).with_name("whsync"))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    server = PgServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg(pg_server: PgServer) -> PgConfig:
    """A fresh, empty database on the session's server."""
    return PgConfig.from_dsn(pg_server.dsn(pg_server.create_database()))


@pytest.fixture(params=["duckdb", "postgres"])
def target(request, tmp_path):
    """An empty warehouse on each target: a DuckDB file in tmp_path, a fresh PostgreSQL database."""
    from pipelines.targets import resolve_target

    if request.param == "duckdb":
        return resolve_target(duckdb=tmp_path / "w.duckdb")
    return resolve_target(postgres=request.getfixturevalue("pg"))


class PgCon:
    """psycopg2 with DuckDB's `con.execute(sql).fetchall()` shape, for tests/warehouse/oracle.py."""

    def __init__(self, dsn: str) -> None:
        self.con = psycopg2.connect(dsn)
        self.con.autocommit = True

    def execute(self, sql: str, params: Any = None) -> Any:
        cur = self.con.cursor()
        cur.execute(sql, params)
        return cur

    def close(self) -> None:
        self.con.close()


@contextlib.contextmanager
def reading_in_a_loop(reader: Any, sql: str, fetch: Callable[[Any], Any]) -> Iterator[tuple[list, list]]:
    """Run `sql` on `reader` (a psycopg2 connection) in a loop on a thread while the block runs;
    yields (results, errors), filled until the block ends."""
    seen: list = []
    errors: list[str] = []
    stop = threading.Event()

    def loop() -> None:
        c = reader.cursor()
        while not stop.is_set():
            try:
                c.execute(sql)
                seen.append(fetch(c))
            except Exception as e:  # noqa: BLE001 - any error is a finding
                errors.append(repr(e))

    t = threading.Thread(target=loop)
    t.start()
    try:
        yield seen, errors
    finally:
        stop.set()
        t.join()


def whsync(args: list[str], cwd: Path, env_extra: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess:
    env = child_env("BENCHLING_", "WHSYNC_", "PG", "DESTINATION__")
    env.update(env_extra)
    return forkserver.run([WHSYNC, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def tricky() -> Tenant:
    return Tenant.load(FIXTURES / "benchling_tricky.json")


@pytest.fixture(scope="module")
def synced_pg(pg_server: PgServer, tricky: Tenant, tmp_path_factory) -> Iterator[tuple[PgServer, str, Any]]:
    """The tricky tenant synced into a fresh database through the CLI (`--target postgres`), with
    a password in the DSN; yields (server, dsn, completed process)."""
    dsn = pg_server.dsn(pg_server.create_database())
    with BenchlingSimulator(tricky, api_key=DEMO_API_KEY, rate_limit="off") as sim:
        p = whsync(["sync", "--target", "postgres", "--base-url", sim.base_url], tmp_path_factory.mktemp("cli"),
                   {"WHSYNC_POSTGRES_DSN": dsn, "BENCHLING_API_KEY": DEMO_API_KEY})
    assert p.returncode == 0, p.stderr
    yield pg_server, dsn, p
