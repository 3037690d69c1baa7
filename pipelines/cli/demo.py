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
    """Start the Benchling, Paradime, Bencher and Okta simulators with generated demo data, sync all
    four, build the warehouse, and print each table's row count and a query to try. The Okta directory
    holds planted people who left the company (deactivated, suspended, and one deleted from Okta between
    the demo's two syncs) and still have accounts elsewhere.
    No credentials needed: the simulators' demo keys are used."""
    import contextlib

    from .. import collector, sources
    from ..progress import Progress
    from ..sync import sync as run_sync

    collector.off_until_exit()  # the process ends after the demo's syncs and report
    try:
        tgt = target_of(target, schema, duckdb, duckdb_storage_version)
        tgt.check()
        with contextlib.ExitStack() as stack:
            plans, urls = [], []
            for spec in sources.specs():  # every source with a demo: its simulator, generated data
                if spec.demo is not None:
                    plan, url = spec.demo(seed, stack)
                    plans.append(plan)
                    urls.append(f"{spec.title} at {url}")
            directories = []  # a directory source (Okta) of the other demos' people, with people who left planted
            for spec in sources.specs():
                if spec.demo_directory is not None:
                    plan, url, change = spec.demo_directory(seed, stack, [p.people for p in plans])
                    directories.append((plan, change))
                    urls.append(f"{spec.title} at {url}")
            if not quiet:
                print(f"demo {'; '.join(urls)}", flush=True)
            with Progress(quiet=quiet) as progress:
                result = run_sync(plans=plans + [p for p, _ in directories], target=tgt, progress=progress,
                                  build=not directories)
            first_run = result.run  # the run that synced Benchling (its requests and waits)
            if directories:  # then the directory changes (someone who left is deleted) and is synced again
                for _, change in directories:
                    change()
                with Progress(quiet=quiet) as progress:
                    second = run_sync(plans=[p for p, _ in directories], target=tgt, progress=progress)
                second.requests, second.seconds = result.requests, result.seconds + second.seconds
                result = second
        report_path = _demo_report(tgt, result.warehouse)
    except Exception as e:  # noqa: BLE001
        fail(e)
        return
    print(f"\naccess review: {report_path}  (open it in a browser; CSVs beside it)")
    from ..benchling.spec import DEMO_RATE_LIMIT

    waited = float(((first_run.sources if first_run else {}).get("benchling") or {}).get("waited_seconds") or 0.0)
    print(f"\nwarehouse: {result.warehouse}  ({result.requests} Benchling API requests at the demo tenant's limit of "
          f"{DEMO_RATE_LIMIT.replace('/', ' requests / ')} s, {waited:.0f}s waited for it; {result.seconds:.1f}s)")
    print("rows per table:")
    print_counts(result.counts)
    if tgt.name == "postgres":
        where = "" if schema == "public" else f"PGOPTIONS='-c search_path={schema}' "
        print(f'\ntry:  {where}psql "$WHSYNC_POSTGRES_DSN" -c \'select "archive_purpose$", count(*) from "project$raw" group by 1\'')
        return
    import shlex

    default = Path(result.warehouse) == Path("warehouse.duckdb").resolve()
    where = "" if default else f" --duckdb {shlex.quote(str(result.warehouse))}"
    me = _self_command()
    print(
        "\ntry:\n"
        f"  {me} sql{where} 'select t.name as team, count(*) as members from team_member m "
        "join team t on t.id = m.team_id group by 1 order by 2 desc limit 5'\n"
        f"  {me} docs{where}   (the column docs as a site)\n"
        "  or, in any SQL client:  select \"archive_purpose$\", count(*) from \"project$raw\" group by 1;"
    )


def _self_command() -> str:
    """How to run this whsync again from here: `whsync` when it is the one on PATH (an installed tool),
    else the path it was started by (e.g. `.venv/bin/whsync` in a clone)."""
    import os
    import shlex
    import shutil
    import sys

    argv0, on_path = Path(sys.argv[0]), shutil.which("whsync")
    if argv0.name != "whsync" or (on_path and Path(on_path).resolve() == argv0.resolve()):
        return "whsync"
    rel = os.path.relpath(argv0)
    return shlex.quote(rel if not rel.startswith("..") else str(argv0.resolve()))


def _demo_report(tgt, warehouse) -> Path:  # noqa: ANN001 - a targets.Target
    """The demo's access review: beside the DuckDB file, or in the working directory for PostgreSQL."""
    from .report import make_report

    out = Path(warehouse).parent / "access-review.html" if tgt.name == "duckdb" else Path("access-review.html")
    return make_report(tgt, out=out, since=None, inactive_days=90)[1][0]
