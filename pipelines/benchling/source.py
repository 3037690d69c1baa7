"""dlt source for Benchling: users, apps, teams, team memberships, projects and folders.

What is fetched and how each raw table is shaped lives here; HTTP, paging and pacing live in
`client.py`. Pages are turned into Arrow tables in bulk (no per-row Python in dlt's normalizer), and
every raw table has a fixed Arrow schema, so a field that is null in every row (e.g. `archiveRecord`)
still becomes a column.

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
`INCREMENTAL`). Teams, memberships, projects and folders are replaced in full on each sync: projects,
folders and memberships have no `modifiedAt` filter and deletions are never signalled, so only a full
listing is correct for them (and teams are needed in full to scan every team's memberships).
`user_activity` is merged by user id (a user not re-checked keeps its row); `tenant` is replaced.
"""
from __future__ import annotations

import threading
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Iterator, Sequence

import dlt
import pyarrow as pa

from ..records import MalformedRecordError, describe as _describe
from . import activity as act
from .client import BenchlingClient

ALL_ARCHIVED = {"archiveReason": "ANY_ARCHIVED_OR_NOT_ARCHIVED"}
ROWS_PER_BATCH = 5000  # pages are concatenated into Arrow batches of about this many rows

S = pa.string()
B = pa.bool_()
TS = pa.timestamp("us", tz="UTC")

# raw table -> (endpoint, response key, query params, [(column, arrow type, getter path)])
# A getter path is the camelCase key, a tuple of keys into a nested object, or "key?" for
# "the key holds a non-null value" (`archived` = an archiveRecord is present, whatever its reason).
COLUMNS: dict[str, list[tuple[str, pa.DataType, Any]]] = {
    "users": [
        ("id", S, "id"),
        ("name", S, "name"),
        ("handle", S, "handle"),
        ("email", S, "email"),
        ("is_suspended", B, "isSuspended"),
        ("api_key_last_changed_at", S, "apiKeyLastChangedAt"),
        ("password_last_changed_at", S, "passwordLastChangedAt"),
    ],
    "apps": [
        ("id", S, "id"),
        ("name", S, "name"),
        ("description", S, "description"),
        ("created_at", S, "createdAt"),
        ("modified_at", S, "modifiedAt"),
        ("creator__id", S, ("creator", "id")),
        ("app_definition__id", S, ("appDefinition", "id")),
        ("archive_record__reason", S, ("archiveRecord", "reason")),
        ("archived", B, "archiveRecord?"),
        ("api_url", S, "apiURL"),
        ("web_url", S, "webURL"),
    ],
    "teams": [
        ("id", S, "id"),
        ("name", S, "name"),
        ("organization__id", S, ("organization", "id")),
        ("organization__handle", S, ("organization", "handle")),
        ("organization__name", S, ("organization", "name")),
    ],
    "team_memberships": [
        ("team_id", S, "teamId"),
        ("user__id", S, ("user", "id")),
        ("user__handle", S, ("user", "handle")),
        ("user__name", S, ("user", "name")),
        ("role", S, "role"),
    ],
    "projects": [
        ("id", S, "id"),
        ("name", S, "name"),
        ("owner__id", S, ("owner", "id")),
        ("owner__handle", S, ("owner", "handle")),
        ("owner__name", S, ("owner", "name")),
        ("archive_record__reason", S, ("archiveRecord", "reason")),
        ("archived", B, "archiveRecord?"),
    ],
    "folders": [
        ("id", S, "id"),
        ("name", S, "name"),
        ("parent_folder_id", S, "parentFolderId"),
        ("project_id", S, "projectId"),
        ("archive_record__reason", S, ("archiveRecord", "reason")),
        ("archived", B, "archiveRecord?"),
    ],
}
PRIMARY_KEYS = {
    "users": "id",
    "apps": "id",
    "teams": "id",
    "team_memberships": ("team_id", "user__id"),
    "projects": "id",
    "folders": "id",
}
ENDPOINTS = {
    "users": ("/users", "users", {}),
    "apps": ("/apps", "apps", {}),
    "teams": ("/teams", "teams", {}),
    "projects": ("/projects", "projects", ALL_ARCHIVED),
    "folders": ("/folders", "folders", ALL_ARCHIVED),
}

# Users and apps can be listed by `modifiedAt` and are never deleted in Benchling (users are
# suspended, apps archived). Teams must be listed in full anyway (their memberships are), and
# projects, folders and memberships have no modifiedAt filter: those are replaced on every sync.
INCREMENTAL = {"users", "apps"}
# Re-read what changed shortly before the previous sync started: covers clock skew between this
# machine and Benchling, and writes that were in flight during the previous scan.
INCREMENTAL_OVERLAP = timedelta(minutes=5)

ProgressFn = Callable[[str, int, int], None]  # (resource, pages, rows) increments
TENANT_SCHEMA = pa.schema([pa.field("host", S, nullable=False), pa.field("_synced_at", TS, nullable=False)])


def _key_columns(table: str) -> set[str]:
    keys = PRIMARY_KEYS[table]
    return {keys} if isinstance(keys, str) else set(keys)


def arrow_schema(table: str) -> pa.Schema:
    keys = _key_columns(table)
    cols = [pa.field(name, typ, nullable=name not in keys) for name, typ, _ in COLUMNS[table]]
    return pa.schema(cols + [pa.field("_synced_at", TS, nullable=False)])


def dlt_columns(table: str) -> dict[str, dict[str, Any]]:
    """Column hints matching the Arrow schema (so dlt creates every column even if all-null)."""
    types = {S: "text", B: "bool", TS: "timestamp"}
    hints = {
        name: {"data_type": types[typ], "nullable": True} for name, typ, _ in COLUMNS[table]
    }
    hints["_synced_at"] = {"data_type": "timestamp", "nullable": False}
    for k in _key_columns(table):
        hints[k]["nullable"] = False
        hints[k]["primary_key"] = True
    return hints


def _getter(path: Any) -> Callable[[dict[str, Any]], Any]:
    if isinstance(path, str) and path.endswith("?"):
        key = path[:-1]
        return lambda o: o.get(key) is not None
    if isinstance(path, str):
        return lambda o: o.get(path)

    outer, inner = path

    def get(o: dict[str, Any]) -> Any:
        v = o.get(outer)
        return v.get(inner) if isinstance(v, dict) else None

    return get


def to_arrow(table: str, items: Sequence[dict[str, Any]], synced_at: datetime) -> pa.Table:
    """Turn a batch of API objects into the raw table's Arrow table, column by column."""
    arrays = []
    keyset = _key_columns(table)
    for o in items:
        if not isinstance(o, dict):
            raise MalformedRecordError(f"Benchling returned a {table} item that is not an object: {_describe(o)}")
    for name, typ, path in COLUMNS[table]:
        get = _getter(path)
        values = [get(o) for o in items]
        if name in keyset:
            for i, v in enumerate(values):
                if not isinstance(v, str) or not v:
                    raise MalformedRecordError(
                        f"Benchling returned a {table} record without a valid `{path if isinstance(path, str) else '.'.join(path)}`: "
                        f"{_describe(items[i])}"
                    )
        try:
            arrays.append(pa.array(values, type=typ))
        except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
            bad = next(o for o, v in zip(items, values) if not _fits(v, typ))
            raise MalformedRecordError(
                f"Benchling returned a {table} record whose `{name}` is not a {typ}: {_describe(bad)}"
            ) from e
    arrays.append(pa.array([synced_at] * len(items), type=TS))
    return pa.Table.from_arrays(arrays, schema=arrow_schema(table))


def _fits(v: Any, typ: pa.DataType) -> bool:
    if v is None:
        return True
    return isinstance(v, bool) if typ == B else isinstance(v, str)


def _batched(
    table: str, pages: Iterable[list[dict[str, Any]]], synced_at: datetime,
    progress: ProgressFn,
) -> Iterator[pa.Table]:
    buf: list[dict[str, Any]] = []
    yielded = False
    seen: set[Any] = set()
    for page in pages:
        progress(table, 1, len(page))
        buf.extend(_unseen(page, seen, table))
        if len(buf) >= ROWS_PER_BATCH:
            yield to_arrow(table, buf, synced_at)
            yielded = True
            buf = []
    if buf or not yielded:  # an empty table still replaces the old one, with every column
        yield to_arrow(table, buf, synced_at)


def _unseen(items: list[dict[str, Any]], seen: set[Any], table: str) -> list[dict[str, Any]]:
    """Drop objects already read in this scan. Users and teams sort by modifiedAt, so an object
    edited mid-scan can move to a later page and be served twice; the first copy wins (the row's
    primary key decides; objects without a key pass through to fail in `to_arrow`)."""
    keys = PRIMARY_KEYS[table]
    if isinstance(keys, str):
        key = lambda o: o.get(keys)  # noqa: E731
    else:
        key = lambda o: (o.get("teamId"), (o.get("user") or {}).get("id"))  # noqa: E731
    out = []
    for o in items:
        k = key(o) if isinstance(o, dict) else None
        if k is None or k not in seen:
            if k is not None:
                seen.add(k)
            out.append(o)
    return out


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
