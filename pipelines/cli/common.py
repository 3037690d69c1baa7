"""The `whsync` app, the options several commands share, and error printing (one line, exit code).

The command line is this package: one module per command or command family, each registering its commands
on `app` (or `simulate_app`); `__init__.py` imports them. Commands parse options and print results; the work
lives in the features (`pipelines/sync.py`, `pipelines/report/`, `pipelines/status.py`), the source folders
and the targets.
"""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import typer

from ..bounds import wait_option
from ..errors import explain  # the one-line cause and exit code of a failure


def telemetry_off() -> None:
    """Nothing phones home: dlt's telemetry and dbt's usage stats off unless the environment says otherwise."""
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")


telemetry_off()

app = typer.Typer(
    name="whsync",
    help="Sync Benchling (and Paradime, Bencher) users, teams, projects and folders into a "
    "Benchling-compatible SQL warehouse (DuckDB by default). Start with `whsync demo`.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

simulate_app = typer.Typer(
    help="Run a local simulator of a source API (for the demo, tests and BI development).",
    no_args_is_help=True,
)
app.add_typer(simulate_app, name="simulate")

DUCKDB_OPTION = typer.Option(
    Path("warehouse.duckdb"), "--duckdb", help="The DuckDB warehouse file to create or update."
)
WAIT_OPTION = typer.Option(
    0.0, "--wait", help="Seconds to wait for another whsync run writing the same warehouse before "
    "giving up (0: give up at once).", callback=wait_option,
)
QUIET_OPTION = typer.Option(False, "--quiet", "-q", help="Print only the result and errors.")
TARGET_OPTION = typer.Option(
    "duckdb", "--target", help="Where the warehouse lives: duckdb (the --duckdb file) or postgres (the "
    "database of WHSYNC_POSTGRES_DSN, or destination.postgres.credentials in .dlt/secrets.toml, or libpq's "
    "PGHOST/PGUSER/PGDATABASE/PGSERVICE; passwords from the DSN, PGPASSWORD or ~/.pgpass).",
)
SCHEMA_OPTION = typer.Option(
    "public", "--schema", help="PostgreSQL only: the warehouse, one per schema (several per database: each "
    "keeps its own raw, staging and Paradime/Bencher schemas, named <schema>__*; public keeps the names of "
    "earlier releases).",
)


def _storage_version(value: str) -> str:
    from ..duckdb_storage import StorageVersionError, normalize

    try:
        return normalize(value)
    except StorageVersionError as e:
        err(f"--duckdb-storage-version: {e}", 2)
        raise


STORAGE_OPTION = typer.Option("v1.4.0", "--duckdb-storage-version", callback=_storage_version,
                              help="DuckDB storage format of the warehouse file: v1.4.0 (default) opens in DuckDB "
                              "1.4 (the long-term-support line) and later, as the DuckDB drivers of BI tools do; "
                              "'latest' is this DuckDB's newest format. A warehouse in another format is "
                              "converted once (data, views and sync state kept).")


def target_of(target: str, schema: str, duckdb: Path | None = None, storage_version: str | None = None):  # noqa: ANN202 - a targets.Target
    """The warehouse of --target (duckdb: the --duckdb file; postgres: the configured connection)."""
    from ..settings import check
    from ..targets import resolve_target

    check()  # a .dlt/*.toml that does not parse is that error, not "no connection"

    return resolve_target(target=target, duckdb=duckdb, schema=schema, duckdb_storage_version=storage_version)


def err(message: str, code: int = 1) -> None:
    """Print `whsync: error: <message>` (secrets removed) on stderr and exit with `code`."""
    from ..redact import redact_configured

    print(f"whsync: error: {redact_configured(message)}", file=sys.stderr, flush=True)
    raise typer.Exit(code)


def print_counts(counts: dict[str, int | None]) -> None:
    width = max((len(k) for k in counts), default=10)
    for name, n in counts.items():
        print(f"  {name:<{width}}  {'missing' if n is None else n:>8}")


def fail(e: BaseException) -> None:
    """Exit with the one-line cause of `e` and its exit code (2: bad configuration or input, 1: anything else)."""
    msg, code = explain(e)
    err(msg, code)


logging.getLogger("dlt").setLevel(logging.WARNING)
