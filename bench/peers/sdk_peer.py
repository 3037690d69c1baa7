"""Peer (a): what a user writes in an afternoon with Benchling's own SDK (`benchling-sdk`).

A loop over the SDK's list iterators with its defaults: the default page size (50; memberships send
no pageSize, so the server's default of 50 applies), the default RetryStrategy (429/502/503/504, 5
tries, waits of 1, 2, 4, 8 s, no jitter, the reset header ignored), one team's memberships after
another; with `activity`, `users.get_user_activity` for each listed user, in a plain loop. Rows are collected per table and inserted into DuckDB with `executemany` into tables shaped
like whsync's raw tables (schema `benchling_raw`), so the benchmark can compare keys.
"""
from __future__ import annotations

from typing import Any

import duckdb
from benchling_sdk.auth.api_key_auth import ApiKeyAuth
from benchling_sdk.benchling import Benchling

ANY = "ANY_ARCHIVED_OR_NOT_ARCHIVED"

DDL = {
    "users": "id varchar primary key, name varchar, handle varchar, email varchar, is_suspended boolean, "
             "api_key_last_changed_at varchar, password_last_changed_at varchar",
    "apps": "id varchar primary key, name varchar, description varchar, created_at timestamptz, "
            "modified_at timestamptz, creator__id varchar, app_definition__id varchar, "
            "archive_record__reason varchar, archived boolean, api_url varchar, web_url varchar",
    "teams": "id varchar primary key, name varchar, organization__id varchar, organization__handle varchar, "
             "organization__name varchar",
    "team_memberships": "team_id varchar, user__id varchar, user__handle varchar, user__name varchar, "
                        "role varchar, primary key (team_id, user__id)",
    "projects": "id varchar primary key, name varchar, owner__id varchar, owner__handle varchar, "
                "owner__name varchar, archive_record__reason varchar, archived boolean",
    "folders": "id varchar primary key, name varchar, parent_folder_id varchar, project_id varchar, "
               "archive_record__reason varchar, archived boolean",
    "user_activity": "user_id varchar primary key, last_seen timestamptz",
}


def v(x: Any) -> Any:
    """The SDK marks absent keys with `Unset`; enums carry `.value`."""
    if x is None or type(x).__name__ == "Unset":
        return None
    return getattr(x, "value", x)


def sub(obj: Any, attr: str) -> Any:
    obj = v(obj)
    return None if obj is None else v(getattr(obj, attr, None))


def fetch(benchling: Benchling, activity: bool = False) -> dict[str, list[tuple]]:
    rows: dict[str, list[tuple]] = {t: [] for t in DDL}
    for page in benchling.users.list():
        rows["users"] += [(u.id, v(u.name), v(u.handle), v(u.email), v(u.is_suspended),
                           v(u.api_key_last_changed_at), v(u.password_last_changed_at)) for u in page]
    for page in benchling.apps.list_apps():
        rows["apps"] += [(a.id, v(a.name), v(a.description), v(a.created_at), v(a.modified_at), sub(a.creator, "id"),
                          sub(a.app_definition, "id"), sub(a.archive_record, "reason"), v(a.archive_record) is not None,
                          v(a.api_url), v(a.web_url)) for a in page]
    teams = []
    for page in benchling.teams.list():
        teams += page
        rows["teams"] += [(t.id, v(t.name), sub(t.organization, "id"), sub(t.organization, "handle"),
                           sub(t.organization, "name")) for t in page]
    for team in teams:
        for page in benchling.teams.list_memberships(team.id):
            rows["team_memberships"] += [(team.id, sub(m.user, "id"), sub(m.user, "handle"), sub(m.user, "name"),
                                          v(m.role)) for m in page]
    for page in benchling.projects.list(archive_reason=ANY):
        rows["projects"] += [(p.id, v(p.name), sub(p.owner, "id"), sub(p.owner, "handle"), sub(p.owner, "name"),
                              sub(p.archive_record, "reason"), v(p.archive_record) is not None) for p in page]
    for page in benchling.folders.list(archive_reason=ANY):
        rows["folders"] += [(f.id, v(f.name), v(f.parent_folder_id), v(f.project_id), sub(f.archive_record, "reason"),
                             v(f.archive_record) is not None) for f in page]
    if activity:  # one call per user, one after another (the SDK has no bulk form either)
        for (user_id, *_rest) in rows["users"]:
            # the SDK parses `"lastSeen": null` (never seen) as Unset and its `last_seen` property then raises
            # NotPresentError: read the field behind it
            rows["user_activity"].append((user_id, v(benchling.users.get_user_activity(user_id)._last_seen)))
    return rows


def run(root_url: str, api_key: str, db_path: str, activity: bool = False) -> dict[str, int]:
    """List everything with the SDK (and each user's activity) and insert it into DuckDB; rows per table."""
    benchling = Benchling(url=root_url, auth_method=ApiKeyAuth(api_key))
    rows = fetch(benchling, activity)
    con = duckdb.connect(db_path)
    try:
        con.execute("create schema if not exists benchling_raw")
        for table, ddl in DDL.items():
            con.execute(f"create or replace table benchling_raw.{table} ({ddl})")
            if rows[table]:
                marks = ", ".join("?" * len(rows[table][0]))
                con.executemany(f"insert into benchling_raw.{table} values ({marks})", rows[table])
    finally:
        con.close()
    return {t: len(r) for t, r in rows.items()}
