"""Reading and writing the review tables through the target layer (`pipelines/targets`).

Reads use the target's read-only connection to the published warehouse. A write holds the warehouse's
writer lock (a sync and a review write never interleave: a sync carries the review tables from the
published warehouse into its build, so a write in between would be lost), makes a private build,
carries the review relations into it, writes there, and publishes it atomically: readers see the
campaign before or after the write, never half of it. On DuckDB the build is a copy of the file; on
PostgreSQL it holds only the review relations, which the publish swaps in one transaction with their
readers' grants.
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator, Sequence

from ..catalog import WAREHOUSE
from . import ReviewError
from .model import CAMPAIGN, COLUMNS, CURRENT, DECISION, ITEM, RELATIONS, TABLES, create_sql, current_view_sql

_BATCH = 500  # rows per insert statement


def _mark(target: Any) -> str:
    return "?" if target.name == "duckdb" else "%s"


class ReviewReader:
    """The published warehouse, read-only, with rows as dicts."""

    def __init__(self, target: Any, con: Any) -> None:
        self.target, self.con, self.mark = target, con, _mark(target)
        self.schema = con.schema(WAREHOUSE)

    def rows(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        cur = self.con.execute(sql.replace("?", self.mark), list(params) if params is not None else None)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]

    def relations(self) -> set[str]:
        """Names of the relations in the warehouse namespace."""
        return {r["table_name"] for r in self.rows(
            "select table_name from information_schema.tables where table_schema = ?", [self.schema])}

    def has_review_tables(self) -> bool:
        return set(RELATIONS) <= self.relations()

    # -- campaigns ----------------------------------------------------------------------------------
    def campaigns(self) -> list[dict[str, Any]]:
        if not self.has_review_tables():
            return []
        return self.rows(f"select * from {CAMPAIGN} order by created_at, name")

    def campaign(self, name: str | None = None, campaign_id: str | None = None) -> dict[str, Any]:
        """The campaign of that name (or id); ReviewError naming the known ones if there is none."""
        found = [c for c in self.campaigns() if (name is not None and c["name"] == name)
                 or (campaign_id is not None and c["campaign_id"] == campaign_id)]
        if found:
            return found[0]
        known = ", ".join(c["name"] for c in self.campaigns()) or "none yet: start one with `whsync review start`"
        what = f"named {name!r}" if name is not None else f"with id {campaign_id}"
        raise ReviewError(f"no review campaign {what} in {self.target.label()} (campaigns: {known})")

    def items(self, campaign_id: str) -> list[dict[str, Any]]:
        return self.rows(f"select * from {ITEM} where campaign_id = ? order by item_id", [campaign_id])

    def decisions(self, campaign_id: str) -> list[dict[str, Any]]:
        return self.rows(f"select * from {DECISION} where campaign_id = ? order by seq", [campaign_id])

    def current(self, campaign_id: str) -> list[dict[str, Any]]:
        return self.rows(f"select * from {CURRENT} where campaign_id = ? order by item_id", [campaign_id])


@contextlib.contextmanager
def reading(target: Any) -> Iterator[ReviewReader]:
    with target.secret_safe(), target.reader() as con:
        yield ReviewReader(target, con)


class ReviewWriter:
    """The review tables in a private build: inserts and updates published together when the block ends."""

    def __init__(self, build: Any) -> None:
        self.build = build
        self.mark = _mark(build.target)

    def rel(self, name: str) -> str:
        return self.build.relation(WAREHOUSE, name)

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
        return self.build.execute(sql.replace("?", self.mark), list(params) if params is not None else None)

    def insert(self, table: str, rows: list[dict[str, Any]]) -> None:
        cols = [c for c, _ in COLUMNS[table]]
        for i in range(0, len(rows), _BATCH):
            chunk = rows[i:i + _BATCH]
            values = ", ".join("(" + ", ".join(self.mark for _ in cols) + ")" for _ in chunk)
            params = [r.get(c) for r in chunk for c in cols]
            self.build.execute(f"insert into {self.rel(table)} ({', '.join(cols)}) values {values}", params)


def ensure(build: Any) -> None:
    """The review tables and view in the build (created empty the first time); a table written by an older
    whsync gains the columns added since (NULL in its rows: `review_item`'s directory facts)."""
    schema = build.schema(WAREHOUSE)
    for table in TABLES:
        build.execute(create_sql(build.relation(WAREHOUSE, table), table))
        have = {r[0] for r in build.execute(
            f"select column_name from information_schema.columns where table_schema = '{schema}' "
            f"and table_name = '{table}'")}
        for column, kind in COLUMNS[table]:
            if column not in have:
                build.execute(f"alter table {build.relation(WAREHOUSE, table)} add column {column} {kind}")
    present = build.execute(
        f"select 1 from information_schema.tables where table_schema = '{schema}' and table_name = '{CURRENT}'")
    if not present:
        build.execute(current_view_sql(lambda n: build.relation(WAREHOUSE, n)))


@contextlib.contextmanager
def locked(target: Any, wait_seconds: float = 0.0) -> Iterator[None]:
    """Hold the warehouse's writer lock (read, validate, then `write` inside it)."""
    with target.secret_safe(), target.lock(
            wait_seconds, on_wait=lambda: print("waiting for another whsync run to finish…", flush=True)):
        yield


@contextlib.contextmanager
def write(target: Any) -> Iterator[ReviewWriter]:
    """A private build holding the review relations; published atomically when the block ends, discarded
    if it raises. Call inside `locked`, with no reader of the published warehouse open."""
    with target.build() as b:
        for name in RELATIONS:
            b.carry(WAREHOUSE, name)
        ensure(b)
        yield ReviewWriter(b)
