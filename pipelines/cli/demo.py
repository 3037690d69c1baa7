"""`whsync demo`: the simulators with generated data, synced into a warehouse, with an access review."""
from __future__ import annotations

from pathlib import Path

import typer

from .common import (DUCKDB_OPTION, QUIET_OPTION, SCHEMA_OPTION, STORAGE_OPTION, TARGET_OPTION, app, fail,
                     print_counts, target_of)


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

    from ..bencher.simulator import DEMO_TOKEN, BencherSimulator, generate_fixture
    from ..bencher.source import BencherConfig
    from ..benchling.simulator import DEMO_API_KEY, BenchlingSimulator, generate_tenant
    from ..paradime.simulator import DEMO_API_KEY as PD_KEY
    from ..paradime.simulator import DEMO_API_SECRET as PD_SECRET
    from ..paradime.simulator import ParadimeSimulator, generate_workspaces
    from ..paradime.source import ParadimeWorkspaceConfig
    from ..progress import Progress
    from ..sync import BenchlingConfig, bencher_plan, benchling_plan, paradime_plan, sync as run_sync

    from datetime import datetime, timezone

    tenant = generate_tenant(seed=seed, users=200, apps=10, teams=20, projects=50, folders=400,
                             present=datetime.now(timezone.utc))  # the default activity budget checks all 200
    workspaces = generate_workspaces(seed=seed)
    try:
        tgt = target_of(target, schema, duckdb, duckdb_storage_version)
        tgt.check()
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
                result = run_sync(plans=plans, target=tgt, progress=progress)
        report_path = _demo_report(tgt, result.warehouse)
    except Exception as e:  # noqa: BLE001
        fail(e)
        return
    print(f"\naccess review: {report_path}  (open it in a browser; CSVs beside it)")
    print(f"\nwarehouse: {result.warehouse}  ({result.requests} Benchling API requests, {result.seconds:.1f}s)")
    print("rows per table:")
    print_counts(result.counts)
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
    from .report import make_report

    out = Path(warehouse).parent / "access-review.html" if tgt.name == "duckdb" else Path("access-review.html")
    return make_report(tgt, out=out, since=None, inactive_days=90)[1][0]
