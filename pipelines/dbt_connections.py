"""One PostgreSQL connection per dbt thread for a whole dbt command, instead of one per node.

dbt-postgres closes its thread's connection when each node ends (`BaseConnectionManager.release`: "always close
the connection") and opens a new one for the next: a sync's build made about 150 connections, each a new
server backend, an authentication (SCRAM, and TLS where the DSN asks for it) and a cold catalog cache. That
was about a quarter of the CPU of a Benchling resync into PostgreSQL, server and client together, and on a
remote server each connection is also a network round trip or more. dbt-snowflake's `reuse_connections` does
the same as this for Snowflake; dbt-postgres has no such setting.

While `kept_between_nodes()` is in effect (`run_dbt`, for each dbt command), a node's end leaves its thread's
connection open: what closing did for the transaction is still done (an open transaction is rolled back, so
nothing a failed node left uncommitted reaches the next node), and a connection that is broken, or that fails
that rollback, is closed and forgotten as before, so the next node opens a new one. dbt closes the kept
connections when the command ends (`cleanup_connections`), as it already did for the command's own
connection. Nothing of the project's SQL depends on session state: no model, test or macro sets a session
variable, a role or a session-level lock (tests/postgres/test_dbt_connections.py checks that it stays so).
Other adapters are unchanged (dbt-duckdb keeps its one connection open by itself).
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator


@contextlib.contextmanager
def kept_between_nodes() -> Iterator[None]:
    """During the call, dbt-postgres keeps each thread's open connection from one node to the next."""
    from dbt.adapters.contracts.connection import ConnectionState
    from dbt.adapters.postgres.connections import PostgresConnectionManager  # a dependency, as dbt-duckdb is

    own = PostgresConnectionManager.__dict__.get("release")  # None: it inherits BaseConnectionManager's
    closing_release = PostgresConnectionManager.release

    def release(self: Any) -> None:
        with self.lock:
            conn = self.get_if_exists()
        if conn is not None and conn.state == ConnectionState.OPEN and conn.transaction_open:
            self._rollback(conn)  # what `close` does first (dbt logs a rollback that fails, and goes on)
        if conn is not None and (conn.state != ConnectionState.OPEN or conn.handle.closed):
            closing_release(self)  # never opened, closed, or broken: dbt's own, so the next node opens a new one

    PostgresConnectionManager.release = release
    try:
        yield
    finally:
        if own is None:
            del PostgresConnectionManager.release
        else:
            PostgresConnectionManager.release = own
