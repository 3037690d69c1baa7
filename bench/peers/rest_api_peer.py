"""Peer (b): dlt's generic `rest_api` source configured for the same endpoints, library defaults otherwise.

Cursor paginator on `nextToken` (an empty string ends the scan), HTTP basic auth with the API key as
username, `archiveReason=ANY_ARCHIVED_OR_NOT_ARCHIVED` on projects and folders, memberships as a
child resource of teams (`teams/{resources.teams.id}/memberships`, team id kept as `_teams_id`); with
`activity`, `users/{resources.users.id}/activity` as a child of users (single page, the body is the record).
Defaults left alone: no pageSize (the API's default, 50), dlt's default retries (5 attempts,
exponential backoff, honours Retry-After, which Benchling does not send), the default loader file
format for DuckDB (insert_values), sequential child requests (no `parallelized`).
"""
from __future__ import annotations

import tempfile
from typing import Any

import dlt
from dlt.sources.rest_api import rest_api_source

ANY = {"archiveReason": "ANY_ARCHIVED_OR_NOT_ARCHIVED"}


def config(base_url: str, api_key: str, activity: bool = False) -> dict[str, Any]:
    def res(name: str, path: str, key: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        endpoint: dict[str, Any] = {"path": path, "data_selector": key}
        if params:
            endpoint["params"] = params
        return {"name": name, "endpoint": endpoint}

    members = res("team_memberships", "teams/{resources.teams.id}/memberships", "memberships")
    members["include_from_parent"] = ["id"]
    extra = []
    if activity:  # one request per user: a child of users, the whole body is the record
        act = res("user_activity", "users/{resources.users.id}/activity", "$")
        act["endpoint"]["paginator"] = {"type": "single_page"}
        act["include_from_parent"] = ["id"]
        extra.append(act)
    return {
        "client": {
            "base_url": base_url.rstrip("/") + "/",
            "auth": {"type": "http_basic", "username": api_key, "password": ""},
        },
        "resource_defaults": {
            "write_disposition": "replace",
            "endpoint": {"paginator": {"type": "cursor", "cursor_path": "nextToken", "cursor_param": "nextToken"}},
        },
        "resources": [
            res("users", "users", "users"),
            res("apps", "apps", "apps"),
            res("teams", "teams", "teams"),
            members,
            res("projects", "projects", "projects", ANY),
            res("folders", "folders", "folders", ANY),
            *extra,
        ],
    }


def run(base_url: str, api_key: str, db_path: str, activity: bool = False) -> Any:
    with tempfile.TemporaryDirectory(prefix="rest-api-peer-") as pipelines_dir:
        pipeline = dlt.pipeline(
            pipeline_name="rest_api_peer",
            destination=dlt.destinations.duckdb(db_path),
            dataset_name="benchling_raw",
            pipelines_dir=pipelines_dir,
        )
        return pipeline.run(rest_api_source(config(base_url, api_key, activity)))
