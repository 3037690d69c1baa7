"""Portable SQL: the dbt project rendered for Snowflake and BigQuery (the `whsync_sql_dialect` var makes the
project's own dialect macros, `for_dialect`, answer as those adapters would, through the DuckDB adapter)
parses as that dialect with sqlglot, with no function the dialect lacks; and no model spells a
DuckDB/PostgreSQL-only construct itself (those live in macros)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from pipelines.bencher.simulator import BencherSimulator
from pipelines.bencher.source import BencherConfig
from pipelines.benchling.simulator import DEMO_API_KEY, BenchlingSimulator, generate_tenant
from pipelines.dbt import PROJECT_DIR, run_dbt
from pipelines.paradime.simulator import ParadimeSimulator
from pipelines.paradime.source import ParadimeWorkspaceConfig
from pipelines.progress import Progress
from pipelines.bencher.spec import bencher_plan
from pipelines.benchling.spec import benchling_plan, BenchlingConfig
from pipelines.paradime.spec import paradime_plan
from pipelines.targets.duckdb import duckdb_env
from pipelines.targets import resolve_target
from pipelines.sync import sync
from tests.helpers import tricky_fixture

MODELS = sorted((PROJECT_DIR / "models").rglob("*.sql"))
DIALECTS = ("snowflake", "bigquery")


@pytest.fixture(scope="module")
def raw_warehouse(tmp_path_factory) -> Path:
    """Raw tables of all three sources (no build): `fill_staging_columns` sees every raw column."""
    path = tmp_path_factory.mktemp("portable") / "w.duckdb"
    pd, bc = tricky_fixture("paradime"), tricky_fixture("bencher")
    tenant = generate_tenant(seed=5, users=3, apps=1, teams=1, projects=1, folders=2)
    with BenchlingSimulator(tenant, api_key=DEMO_API_KEY, rate_limit="off") as bl, \
            ParadimeSimulator(pd["workspaces"], api_key=pd["api_key"], api_secret=pd["api_secret"]) as ps, \
            BencherSimulator(bc, token=bc["token"]) as bs:
        configs = [ParadimeWorkspaceConfig(name=w.name, endpoint=ps.endpoint_for(w.name), api_key=pd["api_key"],
                                           api_secret=pd["api_secret"]) for w in pd["workspaces"]]
        sync(plans=[benchling_plan(BenchlingConfig(bl.base_url, api_key=DEMO_API_KEY)), paradime_plan(configs),
                    bencher_plan(BencherConfig(token=bc["token"], base_url=bs.base_url))],
             target=resolve_target(duckdb=path), build=False, progress=Progress(quiet=True))
    return path


def compiled_models(db: Path, dialect: str) -> dict[str, str]:
    key = f"portable-{dialect}-{db}"
    run_dbt("compile", duckdb_env(db), key=key, extra_args=["--vars", f"{{whsync_sql_dialect: {dialect}}}",
                                                               "--select", "resource_type:model", "--indirect-selection", "empty"])
    from pipelines.dbt import _work_dir

    root = _work_dir(key) / "target" / "compiled" / "whsync" / "models"
    return {str(p.relative_to(root)): p.read_text(encoding="utf-8") for p in root.rglob("*.sql")}


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_model_renders_as_valid_sql_of_another_warehouse(raw_warehouse, dialect):
    models = compiled_models(raw_warehouse, dialect)
    assert sorted(models) == sorted(str(p.relative_to(PROJECT_DIR / "models")) for p in MODELS)  # every model
    problems = []
    for name, sql in sorted(models.items()):
        try:
            tree = sqlglot.parse_one(sql, read=dialect, error_level=sqlglot.ErrorLevel.RAISE)
        except sqlglot.errors.ParseError as e:
            problems.append(f"{name}: does not parse as {dialect}: {str(e).splitlines()[0]}")
            continue
        unknown = sorted({f.name for f in tree.find_all(exp.Anonymous)})
        if unknown:
            problems.append(f"{name}: functions {dialect} does not have: {unknown}")
        if any(tree.find_all(exp.AtTimeZone)):
            problems.append(f"{name}: AT TIME ZONE, which {dialect} does not have")
        custom = sorted({t.sql() for t in tree.find_all(exp.DataType) if t.this == exp.DataType.Type.USERDEFINED})
        if custom:
            problems.append(f"{name}: types {dialect} does not have: {custom}")
    assert not problems, "\n".join(problems)


NOT_PORTABLE = {
    "`||` (use dbt.concat)": re.compile(r"\|\|"),
    "AT TIME ZONE (use the utc_timestamp macro)": re.compile(r"\bat\s+time\s+zone\b", re.I),
    "a hard-coded type in a cast (use typed_null / sql_type)": re.compile(r"\bcast\s*\([^)]*\bas\s+\w", re.I),
    "a hand-quoted identifier (use adapter.quote)": re.compile(r'"[^"\n]*"'),
    "a `::` cast": re.compile(r"::"),
}


def test_no_model_spells_a_duckdb_or_postgres_only_construct():
    problems = []
    for path in MODELS:
        sql = re.sub(r"\{#.*?#\}|\{\{.*?\}\}|\{%.*?%\}", "", path.read_text(encoding="utf-8"), flags=re.S)
        problems += [f"{path.relative_to(PROJECT_DIR)}: {what}" for what, rx in NOT_PORTABLE.items() if rx.search(sql)]
    assert not problems, "\n".join(problems)
