"""`whsync report`: options and messages; the work is in `pipelines.report`."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from .common import app


def make_report(target: Any, *, out: Path, since: Optional[str], inactive_days: int) -> tuple[Any, list[Path]]:
    """Collect the report from `target` (a `targets.Target`) and write it; returns (report, files written).
    Raises ReportError on bad input."""
    from ..report import ReportError, collect, open_warehouse, parse_since
    from ..report.render import write_report

    from ..bounds import INACTIVE_DAYS, check

    message = check("--inactive-days", inactive_days, INACTIVE_DAYS, "a number of days")
    if message:
        raise ReportError(message)
    start = parse_since(since)
    with open_warehouse(target) as reader:
        report = collect(reader, since=start, inactive_days=inactive_days)
    return report, write_report(report, out)


@app.command("report")
def report(
    duckdb: Path = typer.Option(Path("warehouse.duckdb"), "--duckdb", help="The DuckDB warehouse to read (read-only)."),
    target: str = typer.Option("duckdb", "--target", help="Where the warehouse lives: duckdb (the --duckdb file) or "
                               "postgres (WHSYNC_POSTGRES_DSN; a role given `whsync grant-reader` suffices)."),
    schema: str = typer.Option("public", "--schema", help="PostgreSQL only: the schema of the warehouse."),
    out: Path = typer.Option(Path("access-review.html"), "--out", help="The HTML file to write; one CSV per list is "
                             "written beside it (<name>-<list>.csv)."),
    since: Optional[str] = typer.Option(None, "--since", help="Start of the review period, YYYY-MM-DD (UTC); "
                                        "default: 90 days before today. The period ends now."),
    inactive_days: int = typer.Option(90, "--inactive-days", help="An active account with no activity for this many "
                                      "days is listed as unused."),
) -> None:
    """Write the access review: one self-contained HTML page (no network request when opened; prints to PDF)
    with the accounts per system and status, the lists to act on (unused accounts, the offboarding gap,
    privileged accounts, teams without an active admin, suspended users still in teams) and the changes in
    the period from history, each with the SQL behind it (examples/queries/); and a CSV per list.
    Lists the warehouse cannot answer yet say what is missing and which command fills it."""
    from ..report import ReportError
    from .common import err as _err, explain as _explain, target_of as _target

    try:
        tgt = _target(target, schema, duckdb)
        tgt.check()
        rep, files = make_report(tgt, out=out, since=since, inactive_days=inactive_days)
    except ReportError as e:
        _err(str(e), 2)
        return
    except Exception as e:  # noqa: BLE001 - one line and an exit code
        msg, code = _explain(e)
        _err(msg, code)
        return
    missing = [r.title for r in rep.lists.values() if r.missing]
    failed = [f"{r.spec.key} ({r.query.name}): {r.error}" for r in rep.lists.values() if r.error]
    print(f"wrote {files[0]} and {len(files) - 1} CSV files beside it", flush=True)
    if missing:
        print(f"not available on this warehouse ({len(missing)}): {'; '.join(missing)} (the page says why)")
    if failed:
        _err(f"{len(failed)} list(s) failed: {'; '.join(failed)}", 1)
