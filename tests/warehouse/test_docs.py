"""`dbt docs generate` succeeds on a synced warehouse, and every warehouse column is described."""
from __future__ import annotations

import json

from pipelines.dbt import run_dbt
from pipelines.targets.duckdb import duckdb_env

from .oracle import COLUMNS


def test_docs_generate_describes_every_warehouse_column(serve, run_sync, tricky_tenant, tmp_path):
    result = run_sync(serve(tricky_tenant), build=True)
    target = tmp_path / "docs"
    run_dbt("docs generate", duckdb_env(result.warehouse), key=f"docs-{tmp_path}",
            extra_args=["--target-path", str(target)])
    manifest = json.loads((target / "manifest.json").read_text())
    catalog = json.loads((target / "catalog.json").read_text())
    models = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    cat = {n["metadata"]["name"]: n for n in catalog["nodes"].values()}
    for table in COLUMNS:
        for name in (table, f"{table}$raw", f"{table}$history"):
            node = models[name]
            assert node["description"].strip(), f"{name} has no description"
            built = set(cat[name]["columns"])  # the columns that really exist in the warehouse
            documented = {c for c, v in node["columns"].items() if v["description"].strip()}
            assert built == set(node["columns"]) and built <= documented, (name, built - documented)
