"""A real PostgreSQL server for the session (one per xdist worker), a fresh database per use, and a
synced copy of the tricky tenant shared by the read-only tests of a module."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import psycopg2
import pytest

from pipelines.benchling.simulator import DEMO_API_KEY, BenchlingSimulator, Tenant
from pipelines.targets.pgconn import PgConfig

from .pgserver import PgServer

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


def whsync(args: list[str], cwd: Path, env_extra: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("BENCHLING_", "WHSYNC_", "PG", "DESTINATION__"))}
    env.update(env_extra)
    return subprocess.run([WHSYNC, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


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
