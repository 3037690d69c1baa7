"""What the warehouse must hold for a tenant fixture, derived independently of the dbt models from
DESIGN.md's contract and shared/reference/benchling-api.md §14 ("What the warehouse columns come
from"). The end-to-end tests compare the synced warehouse against this, row by row."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

COLUMNS = {
    "user": ["id", "handle", "name", "email", "is_suspended", "created_at"],
    "principal": ["id", "handle", "name", "email", "is_suspended", "created_at"],
    "team": ["id", "name", "description"],
    "team_member": ["id", "team_id", "user_id", "role"],
    "project": ["id", "source_id", "archived$", "archive_purpose$", "name", "created_at", "url"],
    "folder": ["id", "source_id", "archived$", "archive_purpose$", "created_at", "modified_at", "name",
               "parent_folder_id"],
}
SYSTEM_COLUMNS = {
    "user": ["_synced_at"],
    "principal": ["_principal_type", "_synced_at"],
    "team": ["_organization_id", "_synced_at"],
    "team_member": ["_synced_at"],
    "project": ["_owner_id", "_synced_at"],
    "folder": ["_synced_at"],
}


def naive_utc(iso: str | None) -> datetime | None:
    if iso is None:
        return None
    dt = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return dt.astimezone(timezone.utc).replace(tzinfo=None)


def _public(o: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in o.items() if not k.startswith("_")}


def expected_raw(tenant: dict[str, list[dict[str, Any]]]) -> dict[str, list[tuple]]:
    """`<table>$raw` rows: the documented columns only (system columns are checked separately)."""
    users = [_public(u) for u in tenant["users"]]
    apps = [_public(a) for a in tenant["apps"]]
    user_rows = [(u["id"], u["handle"], u["name"], u["email"], u["isSuspended"], None) for u in users]
    app_rows = [(a["id"], None, a["name"], None, None, naive_utc(a["createdAt"])) for a in apps]
    return {
        "user": sorted(user_rows),
        "principal": sorted(user_rows + app_rows),
        "team": sorted((t["id"], t["name"], None) for t in tenant["teams"]),
        "team_member": sorted(
            (f"{m['teamId']}:{m['user']['id']}", m["teamId"], m["user"]["id"], m["role"])
            for m in tenant["memberships"]
        ),
        "project": sorted(
            (p["id"], p["id"], p.get("archiveRecord") is not None,
             (p.get("archiveRecord") or {}).get("reason"), p["name"], None, None)
            for p in tenant["projects"]
        ),
        "folder": sorted(
            (f["id"], f["projectId"], f.get("archiveRecord") is not None,
             (f.get("archiveRecord") or {}).get("reason"), None, None, f["name"], f.get("parentFolderId"))
            for f in tenant["folders"]
        ),
    }


def expected_views(tenant: dict[str, list[dict[str, Any]]]) -> dict[str, list[tuple]]:
    raw = expected_raw(tenant)
    views = dict(raw)
    views["project"] = [r for r in raw["project"] if r[2] is not True]
    views["folder"] = [r for r in raw["folder"] if r[2] is not True]
    return views


def read_table(con: Any, table: str, columns: list[str]) -> list[tuple]:
    cols = ", ".join(f'"{c}"' for c in columns)
    return sorted(con.execute(f'select {cols} from "{table}"').fetchall())


def columns_of(con: Any, table: str) -> list[str]:
    """A relation's columns in order, in the current schema (portable: DuckDB and PostgreSQL)."""
    name = table.replace("'", "''")
    return [r[0] for r in con.execute(
        "select column_name from information_schema.columns "
        f"where table_schema = current_schema() and table_name = '{name}' order by ordinal_position"
    ).fetchall()]


def assert_matches(con: Any, tenant: dict[str, list[dict[str, Any]]]) -> None:
    """The warehouse behind `con` (anything with `.execute(sql).fetchall()`) holds exactly what the
    tenant implies: every `$raw` table and view row by row, and their columns in order."""
    want_raw, want_views = expected_raw(tenant), expected_views(tenant)
    for table, cols in COLUMNS.items():
        assert read_table(con, f"{table}$raw", cols) == want_raw[table], f"{table}$raw differs"
        assert read_table(con, table, cols) == want_views[table], f"{table} view differs"
        # the views expose exactly the documented columns, in the documented order
        assert columns_of(con, table) == cols
        assert columns_of(con, f"{table}$raw") == cols + SYSTEM_COLUMNS[table]
