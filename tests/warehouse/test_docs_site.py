"""`whsync docs`: the static docs site renders from file:// in headless Chromium, lists every warehouse
relation with its columns and lineage, and makes no network request."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb

from pipelines.catalog import SOURCE_RELATIONS
from pipelines.targets.duckdb import duckdb_schema
from tests import forkserver

# (schema, table) of every source's published relations in a DuckDB warehouse
SOURCE_TABLES = {src: [(duckdb_schema(ns), t) for ns, t in rels] for src, rels in SOURCE_RELATIONS.items()}

from ..browser import network_requests, offline_page

WHSYNC = str(Path(sys.executable).with_name("whsync"))


def test_docs_site_lists_every_relation_offline(demo_warehouse, tmp_path):
    out = tmp_path / "site"
    p = forkserver.run([WHSYNC, "docs", "--duckdb", str(demo_warehouse), "--out", str(out), "-q"],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    page_url = p.stdout.strip()
    assert page_url == (out / "index.html").resolve().as_uri()

    html = (out / "index.html").read_text()
    assert "cloudfront.net" not in html and "sinter-collect" not in html  # dbt's tracker loader is gone
    assert '<meta http-equiv="Content-Security-Policy" content="default-src \'none\';' in html
    manifest = json.loads((out / "manifest.json").read_text())
    models = {(n["schema"], n["alias"]): n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    con = duckdb.connect(str(demo_warehouse), read_only=True)
    try:
        columns = {}
        for tables in SOURCE_TABLES.values():
            for schema, table in tables:
                columns[(schema, table)] = [r[0] for r in con.execute(
                    "select column_name from duckdb_columns() where schema_name = ? and table_name = ? "
                    "order by column_index", [schema, table]).fetchall()]
                assert columns[(schema, table)], (schema, table)
    finally:
        con.close()

    with offline_page() as (page, requests):
        page.goto(page_url)
        page.get_by_text("Database", exact=True).first.click()  # the database explorer tab
        tree = page.locator("div.menu[ng-show=\"nav_selected == 'database'\"]")
        tree.get_by_text("warehouse", exact=True).click()
        schemas = {schema for schema, _ in columns}
        for schema in sorted(schemas):
            tree.get_by_text(schema, exact=True).click()
        # each relation is a tree node carrying its model's id (dbt shortens long labels in the middle,
        # so the node's text is not the name; its title and id are)
        ids = tree.locator("a.menu-node[data-nav-unique-id]").evaluate_all(
            "nodes => nodes.map(n => [n.getAttribute('data-nav-unique-id'), n.getAttribute('title')])")
        by_id = {n["unique_id"]: key for key, n in models.items()}
        listed = {by_id[uid] for uid, title in ids if uid in by_id and title == by_id[uid][1]}
        assert set(columns) <= listed, set(columns) - listed
        for (schema, table), cols in columns.items():
            node = models[(schema, table)]  # every warehouse relation is a documented model
            page.goto(f"{page_url}#!/model/{node['unique_id']}")
            page.get_by_text(f"warehouse.{schema}.{table}", exact=True).wait_for(timeout=30_000)
            body = page.locator("body").inner_text()
            for col in cols:  # the columns the warehouse really has, each with its description
                assert f"\n{col}\n" in body, (schema, table, col)
                assert node["columns"][col]["description"].strip() in body.replace("\n", " ")
            assert "Depends On" in body
        page.goto(f"{page_url}#!/model/model.whsync.project$raw")  # lineage back to the API data
        page.get_by_text("stg_benchling__projects").first.wait_for(timeout=30_000)
        assert network_requests(requests) == [], network_requests(requests)
        assert requests and all(u.startswith("file:") for u in requests)
