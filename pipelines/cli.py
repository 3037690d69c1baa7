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
    "database of WHSYNC_POSTGRES_DSN, or destination.postgres.credentials in .dlt/secrets.toml).",
)
SCHEMA_OPTION = typer.Option("public", "--schema", help="PostgreSQL only: the schema of the warehouse tables and views.")


def _postgres(target: str, schema: str):  # noqa: ANN202 - PgConfig | None, imported lazily
    """The PostgreSQL connection for --target postgres, None for duckdb."""
    from .postgres import PostgresConfigError, resolve

    if target == "duckdb":
        return None
    if target != "postgres":
        raise PostgresConfigError(f"--target {target!r}: choose duckdb or postgres")
    return resolve(schema)


def _err(message: str, code: int = 1) -> None:
    from .postgres import redact_configured

    print(f"whsync: error: {redact_configured(message)}", file=sys.stderr, flush=True)
    raise typer.Exit(code)


def _explain(exc: BaseException) -> tuple[str, int]:
    """The one-line cause of a failure (dlt wraps our errors; unwrap them) and the exit code."""
    from .bencher.client import BencherError
    from .benchling.client import BenchlingError
    from .benchling.source import MalformedRecordError
    from .dbt import DbtBuildError
    from .paradime.client import ParadimeError
    from .postgres import PostgresBusyError, PostgresConfigError, PostgresError
    from .sync import ConfigError
    from .warehouse import WarehouseBusyError

    seen = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, (ConfigError, PostgresConfigError)):
            return str(cur), 2
        if isinstance(cur, (BenchlingError, MalformedRecordError, DbtBuildError, WarehouseBusyError,
                            PostgresError, PostgresBusyError, ParadimeError, BencherError)):
            return str(cur), 1
        cur = cur.__cause__ or cur.__context__
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"{type(exc).__name__}: {first[:300]}", 1


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
    wait: float = WAIT_OPTION,
    quiet: bool = QUIET_OPTION,
) -> None:
    """Sync a Benchling tenant (and/or Paradime, Bencher) into the warehouse, then build the tables.

    The API key comes from the environment (BENCHLING_API_KEY) or .dlt/secrets.toml
    (sources.benchling.api_key), never from the command line. A Benchling app can use
    BENCHLING_CLIENT_ID + BENCHLING_CLIENT_SECRET (OAuth client credentials) instead.
    The warehouse is built in a copy and published atomically: readers never see a half-built
    warehouse, and a failed sync leaves the previous one as it was.
    """
    from .progress import Progress
    from .sync import plans_for, sync as run_sync

    try:
        pg = _postgres(target, schema)
        plans = plans_for(source, base_url, allow_insecure_http, full_refresh)
        with Progress(quiet=quiet) as progress:
            result = run_sync(plans=plans, warehouse=duckdb, build=build, progress=progress, wait_seconds=wait,
                              postgres=pg)
    except Exception as e:  # noqa: BLE001 - every failure becomes one line and an exit code
        msg, code = _explain(e)
        _err(msg, code)
        return
    print(
        f"synced {sum(result.rows.values())} rows in {result.seconds:.1f}s into {result.warehouse}"
        + (f"; Benchling: {result.requests} requests ({result.rate_limited} rate-limited, "
           f"{result.retries} retried)" if result.requests else "")
    )
    if result.counts:
        _print_counts(result.counts)


@app.command()
def build(
    duckdb: Path = DUCKDB_OPTION, target: str = TARGET_OPTION, schema: str = SCHEMA_OPTION,
    wait: float = WAIT_OPTION, quiet: bool = QUIET_OPTION,
) -> None:
    """Rebuild the warehouse tables (dbt build) from the raw data already loaded; no API calls."""
    from .postgres import table_counts as pg_counts
    from .progress import Progress
    from .sync import WAREHOUSE_TABLES, build_only, warehouse_counts

    try:
        pg = _postgres(target, schema)
        with Progress(quiet=quiet) as progress:
            res = build_only(warehouse=duckdb, progress=progress, wait_seconds=wait, postgres=pg)
        where = pg.label() if pg else str(duckdb.resolve())
        counts = pg_counts(pg, WAREHOUSE_TABLES) if pg else warehouse_counts(duckdb.resolve())
    except Exception as e:  # noqa: BLE001
        msg, code = _explain(e)
        _err(msg, code)
        return
    print(f"built {res.models} models, passed {res.tests} tests and {res.unit_tests} unit tests in {where}")
    _print_counts(counts)


@app.command()
def demo(
    duckdb: Path = DUCKDB_OPTION,
    seed: int = typer.Option(7, "--seed", help="Seed of the generated demo tenant, workspaces and organizations."),
    target: str = TARGET_OPTION,
    schema: str = SCHEMA_OPTION,
    quiet: bool = QUIET_OPTION,
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

    tenant = generate_tenant(seed=seed, users=200, apps=10, teams=20, projects=50, folders=400)
    workspaces = generate_workspaces(seed=seed)
    try:
        pg = _postgres(target, schema)
        with contextlib.ExitStack() as stack:
            bl = stack.enter_context(BenchlingSimulator(tenant, api_key=DEMO_API_KEY))
            pd = stack.enter_context(ParadimeSimulator(workspaces, api_key=PD_KEY, api_secret=PD_SECRET))
            bc = stack.enter_context(BencherSimulator(generate_fixture(seed=seed), token=DEMO_TOKEN))
            if not quiet:
                print(f"demo Benchling tenant at {bl.base_url}; Paradime at {pd.base_url}; Bencher at {bc.base_url}",
                      flush=True)
            plans = [
                benchling_plan(BenchlingConfig(bl.base_url, api_key=DEMO_API_KEY)),
                paradime_plan([ParadimeWorkspaceConfig(ws.name, pd.endpoint_for(ws.name), PD_KEY, PD_SECRET, None, None)
                               for ws in workspaces]),
                bencher_plan(BencherConfig(token=DEMO_TOKEN, base_url=bc.base_url)),
            ]
            with Progress(quiet=quiet) as progress:
                result = run_sync(plans=plans, warehouse=duckdb, progress=progress, postgres=pg)
        report_path = _demo_report(pg, result.warehouse, schema)
    except Exception as e:  # noqa: BLE001
        msg, code = _explain(e)
        _err(msg, code)
        return
    print(f"\naccess review: {report_path}  (open it in a browser; CSVs beside it)")
    if pg is not None:
        print(f"\nwarehouse: {result.warehouse}  ({result.requests} Benchling API requests, {result.seconds:.1f}s)")
        print("rows per table:")
        _print_counts(result.counts)
        print('\ntry:  psql "$WHSYNC_POSTGRES_DSN" -c \'select "archive_purpose$", count(*) from "project$raw" group by 1\'')
        return
    print(f"\nwarehouse: {result.warehouse}  ({result.requests} Benchling API requests, {result.seconds:.1f}s)")
    print("rows per table:")
    _print_counts(result.counts)
    print(
        "\ntry:\n"
        f"  .venv/bin/python -c \"import duckdb; print(duckdb.connect('{result.warehouse}', read_only=True)"
        ".sql('select t.name as team, count(*) as members from team_member m join team t on t.id = m.team_id "
        "group by 1 order by 2 desc limit 5'))\"\n"
        "  or, in any SQL client:  select \"archive_purpose$\", count(*) from \"project$raw\" group by 1;"
    )


def _demo_report(pg, warehouse, schema: str) -> Path:  # noqa: ANN001
    from .report.cli import make_report

    out = Path("access-review.html") if pg is not None else Path(warehouse).parent / "access-review.html"
    target = "postgres" if pg is not None else "duckdb"
    _, files = make_report(duckdb=None if pg else Path(warehouse), target=target, schema=schema, out=out,
                           since=None, inactive_days=90)
    return files[0]


@app.command("grant-reader")
def grant_reader(
    role: str = typer.Argument(..., help="An existing PostgreSQL role (e.g. a LOGIN role for a BI tool)."),
    schema: str = SCHEMA_OPTION,
) -> None:
    """PostgreSQL only: let ROLE read the warehouse (SELECT on its views and $raw tables, USAGE on
    its schema) and nothing else: no raw (benchling_raw), staging or dlt tables. The grants survive
    later syncs. The connection is WHSYNC_POSTGRES_DSN (or destination.postgres.credentials)."""
    from .postgres import grant_reader as grant, resolve
    from .sync import WAREHOUSE_TABLES

    try:
        cfg = resolve(schema)
        granted = grant(cfg, role, WAREHOUSE_TABLES)
    except Exception as e:  # noqa: BLE001
        msg, code = _explain(e)
        _err(msg, code)
        return
    print(f"granted {role} SELECT on {len(granted)} relations in {cfg.label()}: {', '.join(granted)}")


def _register() -> None:
    from pipelines.bencher.simulator.cli import simulate_bencher
    from pipelines.benchling.simulator.cli import simulate_benchling
    from pipelines.paradime.simulator.cli import simulate_paradime
    from pipelines.report.cli import report

    app.command("report")(report)

    simulate_app.command("benchling")(simulate_benchling)
    simulate_app.command("paradime")(simulate_paradime)
    simulate_app.command("bencher")(simulate_bencher)


_register()
logging.getLogger("dlt").setLevel(logging.WARNING)


if __name__ == "__main__":  # pragma: no cover
    app()
