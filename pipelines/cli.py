"""`whsync` command line: demo, sync, build, simulate.

This file parses options and prints results; the work lives in `sync.py` (sync and build), the
source folders (`benchling/`, ...) and their simulators.
"""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Optional

import typer

from .errors import explain as _explain  # the one-line cause and exit code of a failure

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

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
    "giving up (0: give up at once).",
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
    from .duckdb_storage import StorageVersionError, normalize

    try:
        return normalize(value)
    except StorageVersionError as e:
        _err(f"--duckdb-storage-version: {e}", 2)
        raise


STORAGE_OPTION = typer.Option("v1.4.0", "--duckdb-storage-version", callback=_storage_version,
                              help="DuckDB storage format of the warehouse file: v1.4.0 (default) opens in DuckDB "
                              "1.4 (the long-term-support line) and later, as the DuckDB drivers of BI tools do; "
                              "'latest' is this DuckDB's newest format. A warehouse in another format is "
                              "converted once (data, views and sync state kept).")


def _target(target: str, schema: str, duckdb: Path | None = None, storage_version: str | None = None):  # noqa: ANN202 - a targets.Target
    """The warehouse of --target (duckdb: the --duckdb file; postgres: the configured connection)."""
    from .settings import check
    from .targets import resolve_target

    check()  # a .dlt/*.toml that does not parse is that error, not "no connection"

    return resolve_target(target=target, duckdb=duckdb, schema=schema, duckdb_storage_version=storage_version)


def _err(message: str, code: int = 1) -> None:
    from .targets.pgconn import redact_configured

    print(f"whsync: error: {redact_configured(message)}", file=sys.stderr, flush=True)
    raise typer.Exit(code)


def _print_counts(counts: dict[str, int | None]) -> None:
    width = max((len(k) for k in counts), default=10)
    for name, n in counts.items():
        print(f"  {name:<{width}}  {'missing' if n is None else n:>8}")


@app.command()
def sync(
    source: list[str] = typer.Option(
        ["benchling"], "--source", "-s", help="Which source to sync: benchling, paradime, bencher or all "
        "(repeat or comma-separate for several). Credentials per source: BENCHLING_API_KEY; "
        "PARADIME_API_ENDPOINT + PARADIME_API_KEY + PARADIME_API_SECRET (or PARADIME_BEARER_TOKEN; "
        "PARADIME_WORKSPACES for several); BENCHER_API_TOKEN (+ BENCHER_API_URL, BENCHER_ORGANIZATIONS); "
        "or the same under [sources.<name>] in .dlt/secrets.toml.",
    ),
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
    from .benchling.activity import ActivityPolicy, summary
    from .progress import Progress
    from .sync import plans_for, sync as run_sync

    try:
        tgt = _target(target, schema, duckdb, duckdb_storage_version)
        tgt.check()
        policy = ActivityPolicy.parse(activity, activity_budget)
        plans = plans_for(source, base_url, allow_insecure_http, full_refresh, policy)
        with Progress(quiet=quiet) as progress:
            result = run_sync(plans=plans, target=tgt, build=build, progress=progress, wait_seconds=wait)
    except Exception as e:  # noqa: BLE001 - every failure becomes one line and an exit code
        msg, code = _explain(e)
        _err(msg, code)
        return
    print(
        f"synced {sum(result.rows.values())} rows in {result.seconds:.1f}s into {result.warehouse}"
        + (f"; Benchling: {result.requests} requests ({result.rate_limited} rate-limited, "
           f"{result.retries} retried)" if result.requests else "")
    )
    if summary(progress.activity):
        print(summary(progress.activity))
    if result.counts:
        _print_counts(result.counts)


@app.command()
def build(
    duckdb: Path = DUCKDB_OPTION, target: str = TARGET_OPTION, schema: str = SCHEMA_OPTION,
    wait: float = WAIT_OPTION, quiet: bool = QUIET_OPTION, duckdb_storage_version: str = STORAGE_OPTION,
) -> None:
    """Rebuild the warehouse tables (dbt build) from the raw data already loaded; no API calls."""
    from .progress import Progress
    from .sync import build_only, warehouse_counts

    try:
        tgt = _target(target, schema, duckdb, duckdb_storage_version)
        with Progress(quiet=quiet) as progress:
            res = build_only(target=tgt, progress=progress, wait_seconds=wait)
        where = tgt.label()
        counts = warehouse_counts(tgt)
    except Exception as e:  # noqa: BLE001
        msg, code = _explain(e)
        _err(msg, code)
        return
    print(f"built {res.models} models, passed {res.tests} tests and {res.unit_tests} unit tests in {where}")
    _print_counts(counts)


# The demo tenant's rate limit: a Benchling app's 300 requests / 30 s (the default 60/30 made the demo's
# 231 requests wait 90 s for nothing). The sync still learns it from the headers and paces to it.
DEMO_RATE_LIMIT = "300/30"


@app.command()
def demo(
    duckdb: Path = DUCKDB_OPTION,
    seed: int = typer.Option(7, "--seed", help="Seed of the generated demo tenant, workspaces and organizations."),
    target: str = TARGET_OPTION,
    schema: str = SCHEMA_OPTION,
    quiet: bool = QUIET_OPTION,
    duckdb_storage_version: str = STORAGE_OPTION,
) -> None:
    """Start the Benchling, Paradime and Bencher simulators with generated demo data, sync all
    three, build the warehouse, and print each table's row count and a query to try.
    No credentials needed: the simulators' demo keys are used."""
    import contextlib

    from .bencher.simulator import DEMO_TOKEN, BencherSimulator, generate_fixture
    from .bencher.source import BencherConfig
    from .benchling.simulator import DEMO_API_KEY, BenchlingSimulator, generate_tenant
    from .paradime.simulator import DEMO_API_KEY as PD_KEY
    from .paradime.simulator import DEMO_API_SECRET as PD_SECRET
    from .paradime.simulator import ParadimeSimulator, generate_workspaces
    from .paradime.source import ParadimeWorkspaceConfig
    from .progress import Progress
    from .sync import BenchlingConfig, bencher_plan, benchling_plan, paradime_plan, sync as run_sync

    from datetime import datetime, timezone

    tenant = generate_tenant(seed=seed, users=200, apps=10, teams=20, projects=50, folders=400,
                             present=datetime.now(timezone.utc))  # the default activity budget checks all 200
    workspaces = generate_workspaces(seed=seed)
    try:
        tgt = _target(target, schema, duckdb, duckdb_storage_version)
        tgt.check()
        with contextlib.ExitStack() as stack:
            bl = stack.enter_context(BenchlingSimulator(tenant, api_key=DEMO_API_KEY, rate_limit=DEMO_RATE_LIMIT))
            pd = stack.enter_context(ParadimeSimulator(workspaces, api_key=PD_KEY, api_secret=PD_SECRET))
            bc = stack.enter_context(BencherSimulator(generate_fixture(seed=seed), token=DEMO_TOKEN))
            if not quiet:
                print(f"demo Benchling tenant at {bl.base_url} (rate limit {DEMO_RATE_LIMIT.replace('/', ' requests / ')} s, "
                      f"as a Benchling app gets; the sync paces itself to it); Paradime at {pd.base_url}; "
                      f"Bencher at {bc.base_url}", flush=True)
            plans = [
                benchling_plan(BenchlingConfig(bl.base_url, api_key=DEMO_API_KEY)),
                paradime_plan([ParadimeWorkspaceConfig(ws.name, pd.endpoint_for(ws.name), PD_KEY, PD_SECRET, None, None)
                               for ws in workspaces]),
                bencher_plan(BencherConfig(token=DEMO_TOKEN, base_url=bc.base_url)),
            ]
            with Progress(quiet=quiet) as progress:
                result = run_sync(plans=plans, target=tgt, progress=progress)
        report_path = _demo_report(tgt, result.warehouse)
    except Exception as e:  # noqa: BLE001
        msg, code = _explain(e)
        _err(msg, code)
        return
    print(f"\naccess review: {report_path}  (open it in a browser; CSVs beside it)")
    waited = float(((result.run.sources if result.run else {}).get("benchling") or {}).get("waited_seconds") or 0.0)
    print(f"\nwarehouse: {result.warehouse}  ({result.requests} Benchling API requests at the demo tenant's limit of "
          f"{DEMO_RATE_LIMIT.replace('/', ' requests / ')} s, {waited:.0f}s waited for it; {result.seconds:.1f}s)")
    print("rows per table:")
    _print_counts(result.counts)
    if tgt.name == "postgres":
        where = "" if schema == "public" else f"PGOPTIONS='-c search_path={schema}' "
        print(f'\ntry:  {where}psql "$WHSYNC_POSTGRES_DSN" -c \'select "archive_purpose$", count(*) from "project$raw" group by 1\'')
        return
    import shlex

    default = Path(result.warehouse) == Path("warehouse.duckdb").resolve()
    where = "" if default else f" --duckdb {shlex.quote(str(result.warehouse))}"
    print(
        "\ntry:\n"
        f"  .venv/bin/whsync sql{where} 'select t.name as team, count(*) as members from team_member m "
        "join team t on t.id = m.team_id group by 1 order by 2 desc limit 5'\n"
        f"  .venv/bin/whsync docs{where}   (the column docs as a site)\n"
        "  or, in any SQL client:  select \"archive_purpose$\", count(*) from \"project$raw\" group by 1;"
    )


def _demo_report(tgt, warehouse) -> Path:  # noqa: ANN001 - a targets.Target
    """The demo's access review: beside the DuckDB file, or in the working directory for PostgreSQL."""
    from .report.cli import make_report

    out = Path(warehouse).parent / "access-review.html" if tgt.name == "duckdb" else Path("access-review.html")
    return make_report(tgt, out=out, since=None, inactive_days=90)[1][0]


@app.command("grant-reader")
def grant_reader(
    role: str = typer.Argument(..., help="An existing PostgreSQL role (e.g. a LOGIN role for a BI tool)."),
    schema: str = SCHEMA_OPTION,
) -> None:
    """PostgreSQL only: let ROLE read the warehouse of --schema (SELECT on its views and $raw tables and
    its Paradime/Bencher tables, USAGE on their schemas) and nothing else: no raw (benchling_raw),
    staging, dlt tables or other warehouses. The grants survive later syncs; run it again after adding
    a source. The connection is the one `sync --target postgres` uses."""
    try:
        tgt = _target("postgres", schema)
        granted = tgt.grant_reader(role, tgt.published_relations())
    except Exception as e:  # noqa: BLE001
        msg, code = _explain(e)
        _err(msg, code)
        return
    print(f"granted {role} SELECT on {len(granted)} relations in {tgt.label()}: {', '.join(granted)}")


def _register() -> None:
    from pipelines.bencher.simulator.cli import simulate_bencher
    from pipelines.benchling.simulator.cli import simulate_benchling
    from pipelines.paradime.simulator.cli import simulate_paradime
    from pipelines.docs import docs as docs_command
    from pipelines.report.cli import report
    from pipelines.sqlcmd import sql as sql_command

    app.command("sql")(sql_command)
    app.command("docs")(docs_command)
    app.command("report")(report)

    simulate_app.command("benchling")(simulate_benchling)
    simulate_app.command("paradime")(simulate_paradime)
    simulate_app.command("bencher")(simulate_bencher)

    from pipelines.status import status

    app.command("status")(status)


_register()
logging.getLogger("dlt").setLevel(logging.WARNING)


if __name__ == "__main__":  # pragma: no cover
    app()
