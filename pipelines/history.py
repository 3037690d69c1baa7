"""When each source's history advances: the sync start times handed to the history models.

History (`<table>$history`, `macros/history.sql`) is written inside the build, so only a complete,
published sync records versions (a failed or killed one is discarded with its build). Each history
model stamps its versions with the start time of the sync that loaded its source's data:

- a source extracted in this run: this sync's start (`synced_at`, also every raw row's `_synced_at`);
- a source not extracted now (`--source paradime` leaves Benchling alone, `whsync build` after
  `--no-build`): the start of the sync that loaded its raw data, the latest `_synced_at` of its raw
  tables. Its data is what the history saw unless a `--no-build` sync loaded newer data since, and then
  those versions get that sync's start, not the build's clock. Unchanged data adds nothing either way.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Mapping

from .targets import Build

ENV = "WHSYNC_SYNC_TIMES"  # read by macros/history.sql
_SYNC_COLUMNS = ("_synced_at", "_whsync_synced_at")  # the sync start on every raw row (Benchling; Paradime, Bencher)


def naive_utc(t: datetime) -> str:
    """`2026-03-01 09:00:00.123456`: the warehouse's timestamps are naive UTC."""
    if t.tzinfo is not None:
        t = t.astimezone(timezone.utc).replace(tzinfo=None)
    return t.isoformat(sep=" ", timespec="microseconds")


def raw_synced_at(build: Build, source: str) -> datetime | None:
    """The start of the latest sync that loaded the source's raw data (None: no raw rows)."""
    ds = build.dataset(source)  # whsync's own names: no quote in them
    names = ", ".join(f"'{c}'" for c in _SYNC_COLUMNS)
    cols = build.execute("select table_name, column_name from information_schema.columns "
                         f"where table_schema = '{ds}' and column_name in ({names})")
    if not cols:
        return None
    sql = " union all ".join(f'select max("{c}") as t from "{ds}"."{t}"' for t, c in sorted(cols))
    row = build.execute(f"select max(t) from ({sql}) as x")
    return row[0][0] if row and row[0][0] is not None else None


def sync_times(build: Build, extracted: Mapping[str, datetime]) -> dict[str, str]:
    """{source: naive UTC sync start} for every source present in the build."""
    out: dict[str, str] = {}
    for source in build.present_sources():
        t = extracted.get(source) or raw_synced_at(build, source)
        if t is not None:
            out[source] = naive_utc(t if isinstance(t, datetime) else datetime.fromisoformat(str(t)))
    return out


def history_env(build: Build, extracted: Mapping[str, datetime]) -> dict[str, str]:
    """The dbt environment that lets the history models record this build's versions."""
    return {ENV: json.dumps(sync_times(build, extracted))}
