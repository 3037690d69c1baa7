"""`whsync review start|workbook|import|status|close|evidence`: options and messages; the work is in
`pipelines/review/` (`campaign.py`, `decisions.py`, `evidence.py`)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Optional

import typer

from .. import sources
from .common import app, err, explain, target_of

review_app = typer.Typer(
    help="Access review campaigns: freeze the accounts of the latest sync, hand reviewers a workbook, record "
    "their decisions (append-only), close, and write the evidence pack. See README: Run an access review.",
    no_args_is_help=True,
)

DUCKDB = typer.Option(Path("warehouse.duckdb"), "--duckdb", help="The DuckDB warehouse file.")
TARGET = typer.Option("duckdb", "--target", help="Where the warehouse lives: duckdb (the --duckdb file) or postgres "
                      "(WHSYNC_POSTGRES_DSN, .dlt/secrets.toml or libpq's PG* variables).")
SCHEMA = typer.Option("public", "--schema", help="PostgreSQL only: the warehouse's schema.")
WAIT = typer.Option(0.0, "--wait", help="Seconds to wait for a running sync (or review write) to finish.")


def _run(target: str, schema: str, duckdb: Path, work: Callable[[Any], Any]) -> Any:
    """Resolve the target and run `work(target)`; every failure is one line and an exit code."""
    from ..review import ReviewError, ReviewIncomplete

    try:
        tgt = target_of(target, schema, duckdb)
        tgt.check()
        if tgt.name == "duckdb" and not tgt.path.exists():
            raise ReviewError(f"no warehouse at {tgt.path}: run `whsync sync` first, or give --duckdb FILE")
        return work(tgt)
    except ReviewError as e:
        err(str(e), 2)
    except ReviewIncomplete as e:
        err(str(e), 1)
    except typer.Exit:
        raise
    except Exception as e:  # noqa: BLE001
        msg, code = explain(e)
        err(msg, code)


@review_app.command("start")
def start(
    name: Optional[str] = typer.Option(None, "--name", help="The campaign's name (default: today's date, YYYY-MM-DD)."),
    owner: Optional[str] = typer.Option(None, "--owner", help="The campaign owner's email: reviews every account no "
                                        "--reviewers rule covers, and the reviewers' own accounts."),
    systems: Optional[str] = typer.Option(None, "--systems", help="Which systems to review, comma-separated "
                                          f"(default: the applications, {','.join(sources.reviewed())}; the directory's "
                                          f"({','.join(sources.directories())}) facts are the flags left_company and "
                                          "outside_directory)."),
    reviewers: Optional[Path] = typer.Option(None, "--reviewers", help="CSV system,scope,team,reviewer mapping "
                                             "accounts to reviewers (README: Run an access review)."),
    out: Optional[Path] = typer.Option(None, "--out", help="The workbook to write (.xlsx; or .csv). Default "
                                       "review-NAME.xlsx."),
    inactive_days: int = typer.Option(90, "--inactive-days", help="An active account unused this many days is "
                                      "flagged dormant."),
    duckdb: Path = DUCKDB, target: str = TARGET, schema: str = SCHEMA, wait: float = WAIT,
) -> None:
    """Freeze the accounts of `access` at the latest published sync as a campaign (with the SHA-256 of the
    population) and write the reviewers' workbook. Later syncs never change the campaign."""
    from ..review.campaign import start as run

    res = _run(target, schema, duckdb, lambda t: run(t, name=name, owner=owner, systems=systems, reviewers=reviewers,
                                                     out=out, inactive_days=inactive_days, wait_seconds=wait))
    campaign, path = res
    print(f"started campaign {campaign['name']}: {campaign['items']} accounts frozen from sync {campaign['run_id']} "
          f"(population sha256 {campaign['population_hash']})")
    print(f"workbook: {path}  (reviewers fill in decision, new_role, justification; then "
          f"`whsync review import FILE --reviewer EMAIL`)")


@review_app.command("workbook")
def workbook(
    name: str = typer.Argument(..., help="The campaign."),
    out: Optional[Path] = typer.Option(None, "--out", help="The workbook to write (.xlsx; or .csv). Default "
                                       "review-NAME.xlsx."),
    duckdb: Path = DUCKDB, target: str = TARGET, schema: str = SCHEMA,
) -> None:
    """Write the campaign's workbook again, every current decision prefilled (a lost file, or a reviewer
    picking up where they left off). Importing it again records only the rows changed since."""
    from ..review.campaign import export

    path = _run(target, schema, duckdb, lambda t: export(t, name, out))
    print(f"workbook: {path}")


@review_app.command("import")
def import_(
    file: Path = typer.Argument(..., help="The filled workbook (.xlsx) or CSV with its columns."),
    reviewer: str = typer.Option(..., "--reviewer", help="The email of the reviewer whose decisions these are."),
    campaign: Optional[str] = typer.Option(None, "--campaign", help="The campaign's name (default: the one the file "
                                           "belongs to)."),
    duckdb: Path = DUCKDB, target: str = TARGET, schema: str = SCHEMA, wait: float = WAIT,
) -> None:
    """Record a reviewer's decisions. The whole file is checked first; one bad row (another campaign, an
    edited fact, an unknown decision, a revoke without justification, an invalid role, a decision on one's
    own account) refuses it, naming each bad row with its sheet and row: nothing is recorded (exit 2)."""
    from ..review.decisions import import_file

    res = _run(target, schema, duckdb, lambda t: import_file(t, file, reviewer, campaign, wait))
    by = ", ".join(f"{k} {v}" for k, v in sorted(res.by_decision.items())) or "none"
    print(f"recorded {res.recorded} decisions in campaign {res.campaign} ({by}); {res.unchanged} unchanged, "
          f"{res.undecided} rows without a decision")


@review_app.command("status")
def status(
    name: Optional[str] = typer.Argument(None, help="The campaign (default: every open campaign)."),
    as_json: bool = typer.Option(False, "--json", help="Print the status as one JSON object."),
    duckdb: Path = DUCKDB, target: str = TARGET, schema: str = SCHEMA,
) -> None:
    """Decided and undecided rows per reviewer and system, and per flag (left_company, outside_directory, ...).
    Exit 0 when every row is decided, 1 when not
    (for reminders), 2 for bad input."""
    from ..review.campaign import status as run

    reports = _run(target, schema, duckdb, lambda t: run(t, name))
    complete = all(r["complete"] for r in reports)
    if as_json:
        print(json.dumps(reports[0] if name else {"campaigns": reports, "complete": complete}, indent=2))
    else:
        if not reports:
            print("no open review campaign")
        for r in reports:
            print(f"campaign {r['name']} ({r['state']}): {r['decided']} of {r['items']} decided, "
                  f"{r['undecided']} undecided")
            width = max(len(g["reviewer"]) for g in r["by_reviewer_system"])
            for g in r["by_reviewer_system"]:
                print(f"  {g['reviewer']:<{width}}  {g['system']:<9}  decided {g['decided']:>5}  "
                      f"undecided {g['undecided']:>5}")
            for flag, f in r["flags"].items():  # the directory's flags first
                if f is None:
                    print(f"  flag {flag}: unknown (no directory synced when the campaign started)")
                elif f["items"]:
                    print(f"  flag {flag}: {f['items']} accounts, decided {f['decided']}, undecided {f['undecided']}"
                          + "".join(f", {k} {v}" for k, v in f["decisions"].items()))
    raise typer.Exit(0 if complete else 1)


@review_app.command("close")
def close(
    name: str = typer.Argument(..., help="The campaign to close."),
    allow_undecided: bool = typer.Option(False, "--allow-undecided", help="Close although rows are undecided: "
                                         "they are recorded as not_reviewed."),
    by: Optional[str] = typer.Option(None, "--by", help="Who closes it (default: the campaign owner)."),
    duckdb: Path = DUCKDB, target: str = TARGET, schema: str = SCHEMA, wait: float = WAIT,
) -> None:
    """Close the campaign: refused (exit 1) while rows are undecided, unless --allow-undecided."""
    from ..review.campaign import close as run

    res = _run(target, schema, duckdb, lambda t: run(t, name, allow_undecided=allow_undecided, by=by,
                                                     wait_seconds=wait))
    print(f"closed campaign {name} at {res['closed_at']:%Y-%m-%d %H:%M:%S} UTC by {res['closed_by']}"
          + (f"; {res['not_reviewed']} rows recorded as not_reviewed" if res["not_reviewed"] else ""))


@review_app.command("evidence")
def evidence(
    name: str = typer.Argument(..., help="The campaign."),
    out: Path = typer.Option(..., "--out", help="The directory to write the evidence pack into."),
    duckdb: Path = DUCKDB, target: str = TARGET, schema: str = SCHEMA,
) -> None:
    """Write the evidence pack: population.csv, decisions.csv (superseded ones included), revocations.csv,
    summary.html (self-contained) and manifest.json (SHA-256 of every file, population hash, sync run_id)."""
    from ..review.evidence import write_pack

    manifest = _run(target, schema, duckdb, lambda t: write_pack(t, name, out))
    print(f"wrote the evidence pack of {name} into {out.resolve()}: {', '.join(manifest['files'])}, manifest.json")


app.add_typer(review_app, name="review")
