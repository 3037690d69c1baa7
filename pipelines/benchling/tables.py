"""Benchling's raw tables as declarations: each table's columns (name, Arrow type, where in the API object),
primary key and endpoint, and the conversion of API pages into Arrow tables with that fixed schema (so a field
that is null in every row still becomes a column). The dlt source that fetches them is `source.py`."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Iterator, Sequence

import pyarrow as pa

from ..records import MalformedRecordError, describe as _describe

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
