"""`whsync status`: is the warehouse fresh? For monitors, health checks and people.

It reads the run log (`sync_run`, the last published sync) and the failure journal (the last failed
attempt) and exits 0 when the warehouse is fresh, 1 when it is older than `--max-age` or the last
attempt failed (or nothing was ever published), 2 for bad configuration.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

import typer

FRESH, STALE_OR_FAILED, BAD_CONFIG = 0, 1, 2

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> float:
    """'26h', '90m', '1h30m', '2d', '45s' -> seconds. ValueError with the accepted forms if bad."""
    t = (text or "").strip().lower()
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*([smhdw])", t)
    if not t or not parts or re.sub(r"(\d+(?:\.\d+)?)\s*([smhdw])", "", t).strip():
        raise ValueError(f"--max-age {text!r} is not a duration: use a number and a unit, e.g. 26h, 90m, 1h30m, 2d")
    seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if seconds <= 0:
        raise ValueError(f"--max-age {text!r} must be more than zero")
    from .bounds import MAX_AGE_SECONDS

    if not seconds <= MAX_AGE_SECONDS[1]:
        raise ValueError(f"--max-age {text!r}: give a duration up to {MAX_AGE_SECONDS[1] / 86400:g}d")
    return seconds


def _utc(value: Any) -> datetime | None:
    """A naive-UTC timestamp from the warehouse or an ISO string from the journal, as aware UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def evaluate(where: str, last: dict[str, Any] | None, failure: dict[str, Any] | None,
             max_age_s: float | None, now: datetime | None = None) -> dict[str, Any]:
    """The status report: `status` (fresh, stale, failed, never), `exit_code`, the last successful
    sync and the last failed attempt if it is newer."""
    now = now or datetime.now(timezone.utc)
    report: dict[str, Any] = {"warehouse": where, "checked_at": _iso(now), "max_age_seconds": max_age_s,
                              "last_success": None, "last_failure": None}
    finished = _utc(last["finished_at"]) if last else None
    if last:
        started = _utc(last["started_at"])
        sources = last.get("sources") or {}
        report["last_success"] = {
            "run_id": last["run_id"], "started_at": _iso(started), "finished_at": _iso(finished),
            "age_seconds": round((now - finished).total_seconds(), 1),
            "duration_seconds": round((finished - started).total_seconds(), 1),
            "target": last["target"], "sources": sorted(sources),
            "requests": last["requests"], "rate_limited": last["rate_limited"], "retries": last["retries"],
            "requests_by_source": {n: s.get("requests", 0) for n, s in sources.items()},
            "rows": {t: c for s in sources.values() for t, c in (s.get("rows") or {}).items()},
            "whsync_version": last.get("whsync_version"),
        }
    failed_at = _utc(failure["failed_at"]) if failure else None
    if failure and (finished is None or failed_at > finished):
        report["last_failure"] = {
            "run_id": failure.get("run_id"), "started_at": failure.get("started_at"), "failed_at": _iso(failed_at),
            "sources": failure.get("sources"), "cause": failure.get("cause"),
            "age_seconds": round((now - failed_at).total_seconds(), 1),
        }
    if report["last_failure"]:
        status, reason = "failed", f"the last attempt failed: {report['last_failure']['cause']}"
    elif last is None:
        status, reason = "never", "no sync has been published to this warehouse yet (the run log is empty)"
    elif max_age_s is not None and report["last_success"]["age_seconds"] > max_age_s:
        status = "stale"
        reason = (f"the last sync finished {_ago(report['last_success']['age_seconds'])} ago, "
                  f"more than --max-age {_ago(max_age_s)}")
    else:
        status, reason = "fresh", None
    report["status"], report["reason"] = status, reason
    report["exit_code"] = FRESH if status == "fresh" else STALE_OR_FAILED
    return report


def _ago(seconds: float) -> str:
    s = int(seconds)
    d, s = divmod(s, 86400)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    parts = [f"{d}d"] * bool(d) + [f"{h}h"] * bool(h) + [f"{m}m"] * bool(m) + [f"{s}s"] * (not (d or h) and bool(s))
    return "".join(parts) or "0s"


def render(report: dict[str, Any], as_json: bool = False) -> str:
    if as_json:
        return json.dumps(report, indent=2, sort_keys=True)
    lines = [f"{report['warehouse']}: {report['status'].upper()}" + (f" — {report['reason']}" if report["reason"] else "")]
    s = report["last_success"]
    if s:
        lines.append(f"last sync: finished {s['finished_at']} ({_ago(s['age_seconds'])} ago), took "
                     f"{_ago(s['duration_seconds'])}; sources {', '.join(s['sources'])}; {s['requests']} requests "
                     f"({s['rate_limited']} rate-limited, {s['retries']} retried); whsync {s['whsync_version']}")
        width = max((len(t) for t in s["rows"]), default=0)
        lines += [f"  {t:<{width}}  {n:>9}" for t, n in sorted(s["rows"].items())]
    f = report["last_failure"]
    if f:
        lines.append(f"last failed attempt: {f['failed_at']} ({_ago(f['age_seconds'])} ago): {f['cause']}")
    return "\n".join(lines)


def read(duckdb: Any = None, target: str = "duckdb", schema: str = "public") -> tuple[str, Any, Any]:
    """(where, last sync_run row, last failed attempt) of the configured warehouse. Raises
    `targets.TargetConfigError` for bad configuration (exit 2)."""
    from pathlib import Path

    from . import journal, runlog
    from .targets import TargetConfigError, resolve_target

    from .settings import check

    check()  # a .dlt/*.toml that does not parse is that error (exit 2), not "no connection"
    tgt = resolve_target(target=target, duckdb=Path(duckdb), schema=schema)
    tgt.check()
    if tgt.name == "duckdb" and not tgt.path.exists() and not journal.journal_path(tgt.path).exists():
        raise TargetConfigError(f"no warehouse at {tgt.path} and no failure journal beside it: check --duckdb "
                                "(or run `whsync sync` first)")
    with tgt.secret_safe():
        if tgt.name == "postgres":
            with tgt.reader() as con:
                exists = con.execute("select to_regnamespace(%s) is not null", (f'"{schema}"',)).fetchone()[0]
            if not exists:
                raise TargetConfigError(f"no warehouse schema {schema!r} in {tgt.label()}: check --schema "
                                        "(or run `whsync sync --target postgres` first)")
        return tgt.label(), runlog.read_last_run(tgt), journal.last_failure_of(tgt)


def status_command(
    duckdb: str = "warehouse.duckdb",
    target: str = "duckdb",
    schema: str = "public",
    max_age: str | None = None,
    as_json: bool = False,
) -> int:
    """Print the status report; return the exit code."""
    import sys

    from .errors import explain

    try:
        max_age_s = parse_duration(max_age) if max_age is not None else None
        where, last, failure = read(duckdb, target, schema)
    except Exception as e:  # noqa: BLE001 - bad configuration (2), or the warehouse cannot be read
        msg, code = (str(e), BAD_CONFIG) if isinstance(e, ValueError) and "--max-age" in str(e) else explain(e)
        if as_json:
            print(json.dumps({"status": "error", "exit_code": code, "reason": msg}, indent=2))
        print(f"whsync: error: {msg}", file=sys.stderr)
        return code
    report = evaluate(where, last, failure, max_age_s)
    print(render(report, as_json))
    return report["exit_code"]


def status(
    duckdb: str = typer.Option("warehouse.duckdb", "--duckdb", help="The DuckDB warehouse file."),
    target: str = typer.Option("duckdb", "--target", help="duckdb (the --duckdb file) or postgres "
                                  "(WHSYNC_POSTGRES_DSN, or destination.postgres.credentials in .dlt/secrets.toml)."),
    schema: str = typer.Option("public", "--schema", help="PostgreSQL only: the warehouse schema."),
    max_age: str | None = typer.Option(None, "--max-age", help="Stale (exit 1) when the last published "
                                          "sync finished longer ago than this, e.g. 26h, 90m, 1h30m, 2d."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON (same fields, same exit code)."),
) -> None:
    """Is the warehouse fresh? The last published sync (when, how long, requests, rows per table) and
    the last failed attempt if it is newer. Exit 0 fresh; 1 older than --max-age, last attempt failed
    or nothing published yet; 2 bad configuration. Run it as is from a monitor or health check."""
    raise typer.Exit(status_command(duckdb, target, schema, max_age, as_json))
