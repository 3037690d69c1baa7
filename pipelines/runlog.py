"""The run log: `sync_run`, one row per published sync, written inside the publish of the tables it
describes; and the failure journal, where a failed attempt (which publishes nothing) leaves its time
and one-line cause without touching the published warehouse (`journal.py`).

`sync_run` columns (portable SQL types; `sources` is JSON text, readable with DuckDB's `->>` /
`json_extract` and PostgreSQL's `::json ->`):

| column          | type      | meaning |
|-----------------|-----------|---------|
| run_id          | text      | unique id of the sync (a UUID) |
| started_at      | timestamp | when the sync started, UTC (the `_synced_at` of the rows it loaded) |
| finished_at     | timestamp | when it was published, UTC |
| target          | text      | `duckdb` or `postgres` |
| sources         | text      | JSON: per source synced, `requests`, `rate_limited` (429s), `retries`, `rows` (rows per warehouse table after the build), `loaded` (rows fetched per raw table), `pages` (requests that returned a page, per resource), `seconds`, `tail_seconds` (after the last page: normalize and load), `waited_seconds` (wall-clock time held back by the rate limit) |
| requests        | bigint    | API requests of all sources (retries included) |
| rate_limited    | bigint    | 429 answers of all sources |
| retries         | bigint    | requests re-sent after a 429, a 5xx or a transport error |
| extract_seconds | double    | time spent extracting and loading (all sources) |
| build_seconds   | double    | dbt build and publish |
| whsync_version  | text      | the whsync version that ran the sync |

Request counts of Paradime and Bencher are counted by their HTTP session; every count is of what
the client sent, so it equals what the API (or its simulator) received.
"""
from __future__ import annotations

import contextlib
import json
import os
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

TABLE = "sync_run"
COLUMNS: list[tuple[str, str]] = [
    ("run_id", "text"), ("started_at", "timestamp"), ("finished_at", "timestamp"), ("target", "text"),
    ("sources", "text"), ("requests", "bigint"), ("rate_limited", "bigint"), ("retries", "bigint"),
    ("extract_seconds", "double precision"), ("build_seconds", "double precision"), ("whsync_version", "text"),
]


def whsync_version() -> str:
    from .project import version  # the installed package's metadata

    return version()


def utc_naive(dt: datetime) -> datetime:
    return dt.astimezone(timezone.utc).replace(tzinfo=None) if dt.tzinfo else dt


@dataclass
class RunRecord:
    run_id: str
    started_at: datetime
    finished_at: datetime
    target: str
    sources: dict[str, dict[str, Any]]
    extract_seconds: float = 0.0
    build_seconds: float = 0.0
    whsync_version: str = field(default_factory=whsync_version)

    def total(self, key: str) -> int:
        return sum(int(s.get(key) or 0) for s in self.sources.values())

    def row(self) -> tuple:
        return (self.run_id, utc_naive(self.started_at), utc_naive(self.finished_at), self.target,
                json.dumps(self.sources, sort_keys=True), self.total("requests"), self.total("rate_limited"),
                self.total("retries"), round(self.extract_seconds, 3), round(self.build_seconds, 3),
                self.whsync_version)


def new_run_id() -> str:
    return str(uuid.uuid4())


def source_details(progress: Any, counts: dict[str, dict[str, int | None]]) -> dict[str, dict[str, Any]]:
    """Per source: what `progress` kept (client counters, pages, timings), rows loaded per raw table
    and `counts` (rows per warehouse table, after the build)."""
    out: dict[str, dict[str, Any]] = {}
    for name in progress.sources:
        s = dict(progress.source_stats.get(name, {}))
        pages = progress.source_pages.get(name, {})
        loaded = dict(progress.source_loaded.get(name) or {}) or {
            r.split(".", 1)[1] if r.startswith(f"{name}.") else r: n for r, n in progress.rows.items()
            if r in pages or r.startswith(f"{name}.")}
        out[name] = {
            "requests": int(s.get("requests") or 0), "rate_limited": int(s.get("rate_limited") or 0),
            "retries": int(s.get("retries") or 0), "pages": dict(pages), "loaded": loaded,
            "rows": {t: n for t, n in (counts.get(name) or {}).items() if n is not None},
            "seconds": round(float(s.get("seconds") or 0.0), 3),
            "tail_seconds": round(float(s.get("tail_seconds") or 0.0), 3),
            "waited_seconds": round(float(s.get("waited_seconds") or 0.0), 3),
        }
    return out


# -- the table (through the target layer) -----------------------------------------------------------------

def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _mark(target: Any) -> str:
    """The DB-API parameter marker of the target's driver (DuckDB `?`, psycopg2 `%s`)."""
    return "?" if target.name == "duckdb" else "%s"


def _has_table(execute: Any, schema: str | None, name: str) -> bool:
    where = f"table_schema = '{schema}'" if schema else "table_schema = current_schema()"
    return bool(execute(f"select 1 from information_schema.tables where {where} and table_name = '{name}'"))


def _row_dict(row: tuple) -> dict[str, Any]:
    out = dict(zip([c for c, _ in COLUMNS], row))
    try:
        out["sources"] = json.loads(out["sources"] or "{}")
    except ValueError:
        out["sources"] = {}
    return out


def read_last_run(target: Any) -> dict[str, Any] | None:
    """The latest `sync_run` row of the published warehouse (`sources` parsed), or None when there
    is no warehouse, no run log or no row yet."""
    if target.name == "duckdb" and not target.path.exists():
        return None
    with target.reader() as con:
        run = lambda sql: con.execute(sql, None).fetchall()  # noqa: E731
        if not _has_table(run, None, TABLE):
            return None
        rows = run(f"select {', '.join(c for c, _ in COLUMNS)} from {_q(TABLE)} order by finished_at desc limit 1")
    return _row_dict(rows[0]) if rows else None


def baseline_from(last: dict[str, Any] | None) -> Any:
    """The time-left baseline (`eta.Baseline`) from the latest run, or None."""
    from .eta import Baseline

    if not last:
        return None
    return Baseline.from_sources(last.get("sources") or {}, last.get("build_seconds"))


def build_counts(b: Any, sources: list[str]) -> dict[str, dict[str, int | None]]:
    """Rows per warehouse relation of each source, in the build (one query)."""
    from .catalog import relation_label, source_relations

    present = {(r[0], r[1]) for r in b.execute("select table_schema, table_name from information_schema.tables")}
    parts, keys = [], []
    for src in sources:
        for ns, name in source_relations()[src]:
            if (b.schema(ns), name) in present:
                parts.append(f"select {len(keys)}, count(*) from {b.relation(ns, name)}")
                keys.append((src, relation_label(ns, name)))
    out: dict[str, dict[str, int | None]] = {src: {} for src in sources}
    for i, n in (b.execute(" union all ".join(parts)) if parts else []):
        src, label = keys[int(i)]
        out[src][label] = int(n)
    return out


def publish(b: Any, rec: "Recorder", extract_seconds: float, build_seconds: float) -> RunRecord:
    """Append this sync's row to `sync_run` in the build (published with it; carried from the
    published warehouse if `build_models` did not already)."""
    from .catalog import WAREHOUSE

    schema = b.schema(WAREHOUSE)
    if not _has_table(b.execute, schema, TABLE):
        b.carry(WAREHOUSE, TABLE)
    record = rec.record(build_counts(b, rec.progress.sources), extract_seconds, build_seconds)
    b.execute(create_sql(schema))
    marks = ", ".join(_mark(b.target) for _ in COLUMNS)
    b.execute(f"insert into {b.relation(WAREHOUSE, TABLE)} ({', '.join(c for c, _ in COLUMNS)}) values ({marks})",
              list(record.row()))
    return record


def create_sql(schema: str | None = None) -> str:
    name = f"{_q(schema)}.{_q(TABLE)}" if schema else _q(TABLE)
    return f"create table if not exists {name} (" + ", ".join(f"{c} {t}" for c, t in COLUMNS) + ")"


# -- one sync's bookkeeping -----------------------------------------------------------------------------

class Recorder:
    """The run log's side of one sync: its id and start, the baseline for the time left, the
    `sync_run` record inside the publish, the journal entry when it fails."""

    def __init__(self, target: str, sources: list[str], progress: Any, build: bool = True) -> None:
        self.run_id = new_run_id()
        self.started_at = datetime.now(timezone.utc)
        self.target = target
        self.progress = progress
        progress.sources = list(sources)
        progress.build = build

    def use_previous(self, last: dict[str, Any] | None) -> None:
        """Estimate the time left from the previous published sync (None: no estimate)."""
        self.progress.baseline = baseline_from(last)

    def record(self, counts: dict[str, dict[str, int | None]], extract_seconds: float,
               build_seconds: float) -> RunRecord:
        """The `sync_run` row, with `counts` (per source: rows per warehouse table in the build)."""
        self.progress.finish()
        return RunRecord(self.run_id, self.started_at, datetime.now(timezone.utc), self.target,
                         source_details(self.progress, counts), extract_seconds, build_seconds)

