"""What whsync knows about its sources and warehouse relations, shared by the sync and the targets
(neither imports the other's module for these)."""
from __future__ import annotations

SOURCES = ("benchling", "paradime", "bencher")

# The namespaces of warehouse relations. A target maps each to a real schema: on DuckDB
# `warehouse` is `main`; on PostgreSQL it is the `--schema` (`public` by default), and the others
# are `paradime`/`bencher` for `public`, `<schema>__paradime`/`<schema>__bencher` otherwise.
WAREHOUSE = "warehouse"
NAMESPACES = (WAREHOUSE, "paradime", "bencher")

WAREHOUSE_TABLES = [
    "user", "principal", "team", "team_member", "project", "folder",
    "user$raw", "principal$raw", "team$raw", "team_member$raw", "project$raw", "folder$raw",
    "user_activity", "user_activity$raw", "access", "person",
]

# (namespace, relation) of each source's published warehouse relations (counts, grants)
SOURCE_RELATIONS: dict[str, list[tuple[str, str]]] = {
    "benchling": [(WAREHOUSE, t) for t in WAREHOUSE_TABLES],
    "paradime": [("paradime", "user"), ("paradime", "invited_user"), ("paradime", "workspace")],
    "bencher": [("bencher", "organization"), ("bencher", "member")],
}

# (namespace, relation) of each source's history relations: one row per version of a row of a table
# (`macros/history.sql`, `pipelines/history.py`); readers get them with `grant-reader`.
HISTORY_RELATIONS: dict[str, list[tuple[str, str]]] = {
    "benchling": [(WAREHOUSE, f"{t}$history") for t in ("user", "principal", "team", "team_member", "project", "folder")],
    "paradime": [("paradime", f"{t}$history") for t in ("user", "invited_user", "workspace")],
    "bencher": [("bencher", f"{t}$history") for t in ("organization", "member")],
}

# (namespace, relation) kept across syncs: each is carried from the published warehouse into every
# build before dbt runs (`Build.carry`), extended there (e.g. a dbt incremental `<table>$history`
# model, the `sync_run` log) and published atomically with the rest. Append yours here.
PERSISTENT_RELATIONS: list[tuple[str, str]] = [r for rels in HISTORY_RELATIONS.values() for r in rels] + [
    (WAREHOUSE, "sync_run"),  # the run log (pipelines/runlog.py), appended to inside each publish
] + [
    (WAREHOUSE, "remediation_action"),  # the remediation audit (pipelines/remediate/audit.py), appended by apply
]

# (namespace, relation) of whsync's own tables readers get with `grant-reader` besides the sources' relations
AUDIT_RELATIONS: list[tuple[str, str]] = [(WAREHOUSE, "remediation_action"), (WAREHOUSE, "remediation_verification")]

# Internal schemas of one warehouse, by their names in the `public` warehouse (and in DuckDB)
RAW_DATASETS = {name: f"{name}_raw" for name in SOURCES}
STAGING = "staging"


def relation_label(namespace: str, name: str) -> str:
    """How a relation is named in counts and messages: `user`, `paradime.user`."""
    return name if namespace == WAREHOUSE else f"{namespace}.{name}"
