"""dlt source for Benchling: users, apps, teams, team memberships, projects and folders.

What is fetched lives here; how each raw table is shaped (its columns, key, endpoint and the Arrow
conversion) in `tables.py`; HTTP, paging and pacing in `client.py`. Pages are turned into Arrow tables in
bulk (no per-row Python in dlt's normalizer), and every raw table has a fixed Arrow schema, so a field that
is null in every row (e.g. `archiveRecord`) still becomes a column.

Raw tables (dataset `benchling_raw`), one row per API object, API fields flattened in snake_case
(`archiveRecord.reason` -> `archive_record__reason`), plus `_synced_at` (the sync's start, UTC):

| table            | endpoint                                                | key               |
|------------------|---------------------------------------------------------|-------------------|
| users            | GET /users                                              | id                |
| apps             | GET /apps                                               | id                |
| teams            | GET /teams                                              | id                |
| team_memberships | GET /teams/{team_id}/memberships, one scan per team      | team_id, user__id |
| projects         | GET /projects?archiveReason=ANY_ARCHIVED_OR_NOT_ARCHIVED | id                |
| folders          | GET /folders?archiveReason=ANY_ARCHIVED_OR_NOT_ARCHIVED  | id                |
| user_activity    | GET /users/{user_id}/activity, within a budget (activity.py) | user_id       |
| tenant           | none: the tenant's host (base URL's host[:port]), the Benchling `scope` | host |

Users and apps are synced incrementally (`modifiedAt` since the last sync, merged by id; see
`tables.INCREMENTAL`). Teams, memberships, projects and folders are replaced in full on each sync: projects,
folders and memberships have no `modifiedAt` filter and deletions are never signalled, so only a full
listing is correct for them (and teams are needed in full to scan every team's memberships).
`user_activity` is merged by user id (a user not re-checked keeps its row); `tenant` is replaced.
"""
from __future__ import annotations

import threading
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Iterator

import dlt
import pyarrow as pa

from . import activity as act
from .client import BenchlingClient
from .tables import (  # noqa: F401 - the tables' declarations, re-exported
    ALL_ARCHIVED,
    COLUMNS,
    ENDPOINTS,
    INCREMENTAL,
    INCREMENTAL_OVERLAP,
    PRIMARY_KEYS,
    ROWS_PER_BATCH,
    TENANT_SCHEMA,
    ProgressFn,
    _batched,
    _unseen,
    arrow_schema,
    dlt_columns,
    to_arrow,
)

class _TeamIds:
    """The list of team ids, fetched once and shared by the teams and memberships resources."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pages: list[list[dict[str, Any]]] | None = None

    def pages(self, client: BenchlingClient) -> list[list[dict[str, Any]]]:
        with self._lock:
            if self._pages is None:
                self._pages = list(client.paginate("/teams", "teams"))
            return self._pages


@dlt.source(name="benchling", max_table_nesting=0)
def benchling_source(
    client: BenchlingClient,
    synced_at: datetime | None = None,
    progress: ProgressFn | None = None,
    membership_workers: int = 8,
    full_refresh: bool = False,
    done: Callable[[str], None] | None = None,
    activity: act.ActivityPolicy | None = None,
    activity_counts: act.ActivityCounts | None = None,
    on_plan: Callable[[str, int], None] | None = None,
    warn: Callable[[str], None] | None = None,
) -> Any:
    """All six Benchling resources, sharing one client (one session, one rate budget).

    Users and apps are incremental: after a first full listing, each sync asks only for objects
    with `modifiedAt` after the previous sync's start (minus `INCREMENTAL_OVERLAP`) and merges them
    by id. The cursor is the *request* time, kept in dlt's state inside the warehouse, because users
    carry no timestamp of their own. `full_refresh` ignores it and replaces the tables.
    `done(table)` is called when a table's listing has ended (for the time-left estimate).

    The activity pass (`activity`, see activity.py) starts once the users are listed, at low priority, and
    fills `activity_counts`; `on_plan(resource, n)` announces its size, `warn(line)` its warning.
    """
    synced_at = synced_at or datetime.now(timezone.utc)
    report: ProgressFn = progress or (lambda *_: None)
    ended: Callable[[str], None] = done or (lambda _: None)
    teams_cache = _TeamIds()
    roster = act.Roster(listings={"users", "apps", "teams", "team_memberships", "projects", "folders"},
                        weights={"team_memberships": membership_workers})
    client.budget.reserve = roster.streams  # the activity pass takes only what the listings leave
    policy = activity or act.ActivityPolicy()
    counts = activity_counts if activity_counts is not None else act.ActivityCounts()

    def listed(table: str) -> Any:
        path, key, params = ENDPOINTS[table]

        def scan() -> Iterator[pa.Table]:
            try:
                yield from scan_once()
            finally:
                roster.finish(table)

        def scan_once() -> Iterator[pa.Table]:
            if table == "teams":
                pages: Iterable[list[dict[str, Any]]] = teams_cache.pages(client)
                yield from _batched(table, pages, synced_at, report)
                ended(table)
                return
            if table not in INCREMENTAL:
                yield from _batched(table, client.paginate(path, key, params), synced_at, report)
                ended(table)
                return
            state = dlt.current.resource_state()
            since = None if full_refresh else state.get("modified_since")
            query = dict(params)
            if since:
                start = datetime.fromisoformat(since) - INCREMENTAL_OVERLAP
                query["modifiedAt"] = "> " + start.strftime("%Y-%m-%dT%H:%M:%SZ")
            # first sync or --full-refresh: replace the table; afterwards merge the changed rows
            hints = dlt.mark.make_hints(write_disposition="merge" if since else "replace")
            pages = client.paginate(path, key, query)
            if table == "users":
                roster.complete = not since  # a full listing: the listed users are all the users
                pages = roster.watch(pages)
            for batch in _batched(table, pages, synced_at, report):
                yield dlt.mark.with_hints(batch, hints)
            ended(table)
            state["modified_since"] = synced_at.isoformat()  # committed only with the load

        return dlt.resource(
            scan,
            name=table,
            # dlt drops the resource state of `replace` resources, so incremental ones are declared
            # `merge` and switch to `replace` per sync through the hints above
            write_disposition="merge" if table in INCREMENTAL else "replace",
            primary_key=PRIMARY_KEYS[table],
            columns=dlt_columns(table),
            parallelized=True,
        )

    def memberships() -> Iterator[pa.Table]:
        try:
            team_ids = [t["id"] for page in teams_cache.pages(client) for t in page]
            yield from _membership_batches(client, team_ids, synced_at, report, membership_workers)
            ended("team_memberships")
        finally:
            roster.finish("team_memberships")

    def user_activity() -> Iterator[pa.Table | None]:
        if policy.mode == "off":
            return
        while not roster.users_listed(0.2):
            yield None  # frees dlt's worker meanwhile; a failing sync closes the generator here
        previous, checks = act.read_previous(dlt.current.pipeline())
        users = dict(roster.users) if roster.complete else {**previous, **roster.users}
        order = act.plan(users, checks, policy, listed=roster.users)
        counts.planned = len(order)
        if on_plan:
            on_plan("user_activity", len(order))
        yield from act.fetch(client, order, users, synced_at, counts,
                             on_done=lambda: report("user_activity", 1, 1), warn=warn or (lambda _: None),
                             limit=policy.budget if policy.mode == "budget" else None)

    activity_resource = dlt.resource(
        user_activity, name="user_activity", write_disposition="merge", primary_key="user_id",
        columns=act.COLUMNS, parallelized=True,
    )
    def tenant_row() -> Iterator[pa.Table]:
        yield pa.Table.from_pylist([{"host": client.netloc, "_synced_at": synced_at}], schema=TENANT_SCHEMA)

    tenant = dlt.resource(
        tenant_row, name="tenant", write_disposition="replace", primary_key="host",
        columns={"host": {"data_type": "text", "nullable": False, "primary_key": True},
                 "_synced_at": {"data_type": "timestamp", "nullable": False}},
    )

    members = dlt.resource(
        memberships,
        name="team_memberships",
        write_disposition="replace",
        primary_key=PRIMARY_KEYS["team_memberships"],
        columns=dlt_columns("team_memberships"),
        parallelized=True,
    )
    return [listed(t) for t in ("users", "apps", "teams")] + [members] + [
        listed(t) for t in ("projects", "folders")
    ] + [tenant, activity_resource]


def _membership_batches(
    client: BenchlingClient, team_ids: list[str], synced_at: datetime,
    report: ProgressFn, workers: int,
) -> Iterator[pa.Table]:
    """One paginated scan per team, `workers` teams at a time; team_id comes from the path."""

    def scan_team(team_id: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for page in client.paginate(f"/teams/{team_id}/memberships", "memberships"):
            report("team_memberships", 1, len(page))
            rows.extend({**m, "teamId": team_id} for m in page)
        return rows

    buf: list[dict[str, Any]] = []
    yielded = False
    seen: set[Any] = set()
    pending = iter(team_ids)
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="memberships") as pool:
        running = set()
        for tid in pending:
            running.add(pool.submit(scan_team, tid))
            if len(running) >= workers:
                break
        while running:
            done, running = wait(running, return_when=FIRST_COMPLETED)
            for fut in done:
                buf.extend(_unseen(fut.result(), seen, "team_memberships"))
                nxt = next(pending, None)
                if nxt is not None:
                    running.add(pool.submit(scan_team, nxt))
            if len(buf) >= ROWS_PER_BATCH:
                yield to_arrow("team_memberships", buf, synced_at)
                yielded = True
                buf = []
    if buf or not yielded:
        yield to_arrow("team_memberships", buf, synced_at)
