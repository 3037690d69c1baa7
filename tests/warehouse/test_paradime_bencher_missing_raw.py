"""The Paradime and Bencher staging models (`fill_staging_columns`) tolerate raw data dlt has not created
yet: with no raw table at all, or a raw table lacking some columns, `dbt build` passes and every model
keeps its columns and types (no rows, or typed NULLs)."""
from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.dbt import run_dbt
from pipelines.targets.duckdb import duckdb_env

SELECT = ["--select", "path:models/staging/paradime+", "path:models/staging/bencher+"]

# relation -> its columns and their DuckDB types, in order
COLUMNS: dict[str, list[tuple[str, str]]] = {
    "staging.stg_paradime__workspaces": [
        ("workspace_uid", "VARCHAR"), ("name", "VARCHAR"), ("listed_by", "VARCHAR"), ("last_listed_at", "TIMESTAMP"),
        ("_whsync_synced_at", "TIMESTAMP WITH TIME ZONE"),
    ],
    "staging.stg_paradime__active_users": [
        ("workspace", "VARCHAR"), ("workspace_uid", "VARCHAR"), ("user_uid", "VARCHAR"), ("email", "VARCHAR"),
        ("name", "VARCHAR"), ("account_type", "VARCHAR"), ("last_listed_at", "TIMESTAMP"),
        ("_whsync_synced_at", "TIMESTAMP WITH TIME ZONE"),
    ],
    "staging.stg_paradime__invited_users": [
        ("workspace", "VARCHAR"), ("workspace_uid", "VARCHAR"), ("email", "VARCHAR"), ("account_type", "VARCHAR"),
        ("invite_status", "VARCHAR"), ("last_listed_at", "TIMESTAMP"), ("_whsync_synced_at", "TIMESTAMP WITH TIME ZONE"),
    ],
    "staging.stg_paradime__workspace_syncs": [
        ("workspace", "VARCHAR"), ("workspace_uid", "VARCHAR"), ("synced_at", "TIMESTAMP"),
        ("active_user_count", "BIGINT"), ("invited_user_count", "BIGINT"), ("workspaces_listed", "BOOLEAN"),
        ("_whsync_synced_at", "TIMESTAMP WITH TIME ZONE"),
    ],
    "staging.stg_bencher__organizations": [
        ("organization_uuid", "VARCHAR"), ("name", "VARCHAR"), ("slug", "VARCHAR"), ("created_at", "TIMESTAMP"),
        ("modified_at", "TIMESTAMP"), ("claimed_at", "TIMESTAMP"), ("has_license", "BOOLEAN"),
        ("last_listed_at", "TIMESTAMP"), ("_whsync_synced_at", "TIMESTAMP WITH TIME ZONE"),
    ],
    "staging.stg_bencher__members": [
        ("organization_uuid", "VARCHAR"), ("organization_slug", "VARCHAR"), ("user_uuid", "VARCHAR"),
        ("name", "VARCHAR"), ("slug", "VARCHAR"), ("email", "VARCHAR"), ("role", "VARCHAR"),
        ("created_at", "TIMESTAMP"), ("modified_at", "TIMESTAMP"), ("last_listed_at", "TIMESTAMP"),
        ("_whsync_synced_at", "TIMESTAMP WITH TIME ZONE"),
    ],
    "staging.stg_bencher__listings": [
        ("synced_at", "TIMESTAMP"), ("scope", "VARCHAR"), ("organization_count", "BIGINT"),
        ("_whsync_synced_at", "TIMESTAMP WITH TIME ZONE"),
    ],
}
MARTS = ("paradime.workspace", "paradime.user", "paradime.invited_user", "bencher.organization", "bencher.member")


def build(db: Path, key: str) -> None:
    run_dbt("build", duckdb_env(db), key=key, extra_args=SELECT)


def columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    schema, name = relation.split(".")
    return con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position", [schema, name]
    ).fetchall()


def test_no_raw_tables_builds_empty_models_with_their_columns(tmp_path):
    db = tmp_path / "empty.duckdb"
    duckdb.connect(str(db)).close()

    build(db, key=f"missing-raw-{tmp_path}")

    con = duckdb.connect(str(db), read_only=True)
    try:
        for relation, want in COLUMNS.items():
            assert columns(con, relation) == want, relation
            assert con.execute(f"select count(*) from {relation}").fetchone() == (0,), relation
        for table in MARTS:
            schema, name = table.split(".")
            assert con.execute(f'select count(*) from {schema}."{name}"').fetchone() == (0,), table
    finally:
        con.close()


def test_raw_table_missing_columns_gives_typed_nulls(tmp_path):
    db = tmp_path / "partial.duckdb"
    con = duckdb.connect(str(db))
    try:  # only some raw tables, and those with only some columns
        con.execute("create schema paradime_raw; create schema bencher_raw")
        con.execute("create table paradime_raw.workspaces (uid varchar, name varchar, _dlt_id varchar)")
        con.execute("insert into paradime_raw.workspaces values ('ws-1', 'Data', 'x')")
        con.execute("create table bencher_raw.organizations (uuid varchar, created varchar, has_license boolean)")
        con.execute("insert into bencher_raw.organizations values ('org-1', '2024-01-01T00:00:00.000Z', true)")
    finally:
        con.close()

    build(db, key=f"partial-raw-{tmp_path}")

    con = duckdb.connect(str(db), read_only=True)
    try:
        for relation, want in COLUMNS.items():
            assert columns(con, relation) == want, relation
        assert con.execute("select * from staging.stg_paradime__workspaces").fetchall() == [
            ("ws-1", "Data", None, None, None)
        ]
        org = con.execute("select organization_uuid, name, created_at, claimed_at, has_license "
                          "from staging.stg_bencher__organizations").fetchall()
        assert [(o[0], o[1], o[2].isoformat(), o[3], o[4]) for o in org] == [
            ("org-1", None, "2024-01-01T00:00:00", None, True)
        ]
        assert con.execute("select count(*) from staging.stg_paradime__active_users").fetchone() == (0,)
    finally:
        con.close()
