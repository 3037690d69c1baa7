"""The failure journal: a failed sync publishes nothing, so its time and one-line cause (never a
secret) are recorded where a failure can write them without touching the published warehouse:
`<file>.journal.jsonl` beside a DuckDB file (one JSON object per line, appended with one write), the
`whsync_sync_failure` table in the warehouse schema on PostgreSQL (outside the relations a publish
swaps). `whsync status` reads the newest entry."""
from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .errors import explain
from .runlog import Recorder, _mark, _q, utc_naive, whsync_version

JOURNAL_KEEP = 500  # failed attempts kept in a journal file (older ones are dropped)


@dataclass
class Failure:
    run_id: str
    started_at: str  # ISO 8601, UTC
    failed_at: str
    target: str
    sources: list[str]
    cause: str  # one line, secrets removed
    exit_code: int = 1
    whsync_version: str = field(default_factory=whsync_version)

    @classmethod
    def now(cls, run_id: str, started_at: datetime, target: str, sources: list[str], cause: str,
            exit_code: int = 1) -> "Failure":
        iso = lambda d: utc_naive(d).isoformat(timespec="microseconds") + "Z"  # noqa: E731
        line = " ".join(cause.split())[:500]
        return cls(run_id, iso(started_at), iso(datetime.now(timezone.utc)), target, sources, line, exit_code)


def failure_of(rec: Recorder, exc: BaseException) -> Failure:
    """The failure journal's entry for the sync of `rec` that failed with `exc`."""
    if isinstance(exc, KeyboardInterrupt):
        cause, code = "interrupted (Ctrl-C or SIGINT) before the sync was published", 1
    else:
        cause, code = explain(exc)
    return Failure.now(rec.run_id, rec.started_at, rec.target, list(rec.progress.sources), cause, code)


JOURNAL_TABLE = "whsync_sync_failure"  # PostgreSQL: in the warehouse schema, never in a build (not swapped)
JOURNAL_COLUMNS = [("run_id", "text"), ("started_at", "timestamp"), ("failed_at", "timestamp"), ("target", "text"),
                   ("sources", "text"), ("cause", "text"), ("exit_code", "integer"), ("whsync_version", "text")]


def journal_failure(target: Any, failure: Failure) -> None:
    """Record a failed attempt outside the published warehouse: `<file>.journal.jsonl` beside a
    DuckDB file (readers may hold the file; a write there could also be lost to a concurrent
    publish), the `whsync_sync_failure` table on PostgreSQL. A journal that cannot be written (the
    server is down: that may be the failure) never hides the sync's own error."""
    with contextlib.suppress(Exception):
        if target.name == "duckdb":
            append_failure(journal_path(target.path), failure)
            return
        target.journal(create_sql())
        row = asdict(failure)
        row["sources"] = json.dumps(row["sources"])
        for k in ("started_at", "failed_at"):
            row[k] = datetime.fromisoformat(row[k].rstrip("Z"))
        marks = ", ".join(_mark(target) for _ in JOURNAL_COLUMNS)
        target.journal(f"insert into {_q(JOURNAL_TABLE)} ({', '.join(c for c, _ in JOURNAL_COLUMNS)}) "
                       f"values ({marks})", [row[c] for c, _ in JOURNAL_COLUMNS])


def create_sql() -> str:
    return (f"create table if not exists {_q(JOURNAL_TABLE)} ("
            + ", ".join(f"{c} {t}" for c, t in JOURNAL_COLUMNS) + ")")


def grant_journal(target: Any, role: str) -> str:
    """PostgreSQL: let `role` (given `grant-reader`) read the failure journal, made now if no sync
    failed yet, so that `whsync status` run as that role sees failures. Returns the table's name."""
    target.journal(create_sql())
    target.journal(f"grant select on {_q(JOURNAL_TABLE)} to {_q(role)}")
    return JOURNAL_TABLE


def last_failure_of(target: Any) -> dict[str, Any] | None:
    """The newest failed attempt in the target's journal, or None."""
    if target.name == "duckdb":
        return last_failure(journal_path(target.path))
    with target.reader() as con:
        run = lambda sql: con.execute(sql, None).fetchall()  # noqa: E731
        # to_regclass sees the table whatever the role may read (information_schema hides it from a
        # role without a privilege on it): a journal this role cannot read is an error, never "no failure"
        if not run(f"select to_regclass('{_q(JOURNAL_TABLE)}') is not null")[0][0]:
            return None
        rows = run(f"select {', '.join(c for c, _ in JOURNAL_COLUMNS)} from {_q(JOURNAL_TABLE)} "
                   "order by failed_at desc limit 1")
    if not rows:
        return None
    out = dict(zip([c for c, _ in JOURNAL_COLUMNS], rows[0]))
    out["sources"] = json.loads(out["sources"] or "[]")
    for k in ("started_at", "failed_at"):
        out[k] = utc_naive(out[k]).isoformat(timespec="microseconds") + "Z"
    return out


def journal_path(warehouse: Path) -> Path:
    """The failure journal of a DuckDB warehouse: `<file>.journal.jsonl`, beside it."""
    return warehouse.with_name(warehouse.name + ".journal.jsonl")


def append_failure(path: Path, failure: Failure) -> None:
    """Append one JSON line with a single O_APPEND write (concurrent writers never interleave)."""
    data = (json.dumps(asdict(failure), sort_keys=True) + "\n").encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    with contextlib.suppress(OSError):
        if path.stat().st_size > JOURNAL_KEEP * 2 * 600:  # rarely: keep the newest entries only
            lines = path.read_bytes().splitlines(keepends=True)[-JOURNAL_KEEP:]
            tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
            tmp.write_bytes(b"".join(lines))
            os.replace(tmp, path)


def last_failure(path: Path) -> dict[str, Any] | None:
    """The newest entry of a journal file (lines that do not parse are skipped), or None."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return None
    for line in reversed(lines):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("failed_at"):
            return entry
    return None
