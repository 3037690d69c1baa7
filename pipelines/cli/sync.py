"""`whsync sync` and `whsync build`: options and messages; the work is in `pipelines/sync.py`."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .. import sources
from .common import (DUCKDB_OPTION, QUIET_OPTION, SCHEMA_OPTION, STORAGE_OPTION, TARGET_OPTION, WAIT_OPTION, app,
                     fail, print_counts, target_of)


def _source_help() -> str:
    """--source's help, from the source registry."""
    specs = sources.specs()
    return (f"Which source to sync: {', '.join(s.name for s in specs)} or all (repeat or comma-separate for "
            f"several). Credentials per source: {'; '.join(s.credentials for s in specs if s.credentials)}; "
            "or the same under [sources.<name>] in .dlt/secrets.toml.")


@app.command()
def sync(
    source: list[str] = typer.Option(sources.names()[:1], "--source", "-s", help=_source_help()),
    base_url: Optional[str] = typer.Option(
        None, "--base-url", help="The Benchling tenant, e.g. https://acme.benchling.com (or a simulator's "
        "URL). Default: BENCHLING_BASE_URL or sources.benchling.base_url in .dlt/config.toml.",
    ),
    duckdb: Path = DUCKDB_OPTION,
    target: str = TARGET_OPTION,
    schema: str = SCHEMA_OPTION,
    build: bool = typer.Option(True, "--build/--no-build", help="Build the warehouse tables with dbt after loading."),
    full_refresh: bool = typer.Option(
        False, "--full-refresh", help="List every Benchling user and app again instead of only those "
        "modified since the last sync (teams, memberships, projects and folders are always listed in full).",
    ),
    allow_insecure_http: bool = typer.Option(
        False, "--allow-insecure-http", help="Allow plain-http URLs to non-loopback hosts for any source "
        "(its credentials would cross the network unencrypted).",
    ),
    activity: str = typer.Option(
        "budget", "--activity", help="Benchling users' last activity (one request per user): 'budget' checks "
        "--activity-budget users per sync, never-checked then least recently checked first (suspended users "
        "once after their suspension); 'all' every user; 'off' none (earlier rows are kept).",
    ),
    activity_budget: Optional[int] = typer.Option(
        None, "--activity-budget", metavar="N", help="Requests the activity pass may spend per sync (default "
        "500: see the README), at a lower priority than the listings and paced to the same rate limit.",
    ),
    wait: float = WAIT_OPTION,
    quiet: bool = QUIET_OPTION,
    duckdb_storage_version: str = STORAGE_OPTION,
) -> None:
    """Sync a Benchling tenant (and/or Paradime, Bencher) into the warehouse, then build the tables.

    The API key comes from the environment (BENCHLING_API_KEY) or .dlt/secrets.toml
    (sources.benchling.api_key), never from the command line. A Benchling app can use
    BENCHLING_CLIENT_ID + BENCHLING_CLIENT_SECRET (OAuth client credentials) instead.
    The warehouse is built in a copy and published atomically: readers never see a half-built
    warehouse, and a failed sync leaves the previous one as it was.
    """
    from .. import collector
    from ..benchling.activity import ActivityPolicy, summary
    from ..progress import Progress
    from ..sync import plans_for, sync as run_sync

    collector.off_until_exit()  # the process ends after the sync
    try:
        tgt = target_of(target, schema, duckdb, duckdb_storage_version)
        tgt.check()
        policy = ActivityPolicy.parse(activity, activity_budget)
        plans = plans_for(source, sources.SyncOptions(base_url, allow_insecure_http, full_refresh, policy))
        with Progress(quiet=quiet) as progress:
            result = run_sync(plans=plans, target=tgt, build=build, progress=progress, wait_seconds=wait)
    except Exception as e:  # noqa: BLE001 - every failure becomes one line and an exit code
        fail(e)
        return
    print(
        f"synced {sum(result.rows.values())} rows in {result.seconds:.1f}s into {result.warehouse}"
        + (f"; Benchling: {result.requests} requests ({result.rate_limited} rate-limited, "
           f"{result.retries} retried)" if result.requests else "")
    )
    if summary(progress.activity):
        print(summary(progress.activity))
    if result.counts:
        print_counts(result.counts)


@app.command()
def build(
    duckdb: Path = DUCKDB_OPTION, target: str = TARGET_OPTION, schema: str = SCHEMA_OPTION,
    wait: float = WAIT_OPTION, quiet: bool = QUIET_OPTION, duckdb_storage_version: str = STORAGE_OPTION,
) -> None:
    """Rebuild the warehouse tables (dbt build) from the raw data already loaded; no API calls."""
    from .. import collector
    from ..progress import Progress
    from ..sync import build_only, warehouse_counts

    collector.off_until_exit()  # the process ends after the build
    try:
        tgt = target_of(target, schema, duckdb, duckdb_storage_version)
        with Progress(quiet=quiet) as progress:
            res = build_only(target=tgt, progress=progress, wait_seconds=wait)
        where = tgt.label()
        counts = warehouse_counts(tgt)
    except Exception as e:  # noqa: BLE001
        fail(e)
        return
    print(f"built {res.models} models, passed {res.tests} tests and {res.unit_tests} unit tests in {where}")
    print_counts(counts)
