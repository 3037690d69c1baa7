"""examples/dagster: the definitions materialized in-process (Dagster's own executor, an ephemeral
instance) against the three simulators. The warehouse equals the oracle, every table's
materialization carries the run's counts, and the daily schedule targets the job."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import duckdb
import pytest

dg = pytest.importorskip("dagster")  # the `dagster` dependency group, which `make test` installs

from pipelines.bencher.simulator import BencherSimulator  # noqa: E402
from pipelines.bencher.simulator import load_fixture as load_bencher_fixture  # noqa: E402
from pipelines.benchling.simulator import DEMO_API_KEY, BenchlingSimulator, generate_tenant  # noqa: E402
from pipelines.catalog import SOURCE_RELATIONS, relation_label  # noqa: E402
from pipelines.paradime.simulator import ParadimeSimulator  # noqa: E402
from pipelines.paradime.simulator import load_fixture as load_paradime_fixture  # noqa: E402

from .test_cli_sources import FIXTURES, bencher_env, paradime_env  # noqa: E402
from .warehouse.oracle import assert_matches  # noqa: E402

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "dagster" / "definitions.py"


def load_example():
    spec = importlib.util.spec_from_file_location("whsync_dagster_example", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_dagster_materializes_every_table_with_the_runs_counts(tmp_path, monkeypatch):
    tenant = generate_tenant(seed=11, users=40, apps=2, teams=4, projects=6, folders=30)
    pd = load_paradime_fixture(FIXTURES / "paradime_tricky.json")
    db = tmp_path / "w.duckdb"
    with BenchlingSimulator(tenant, api_key=DEMO_API_KEY, rate_limit="off") as bl, \
            ParadimeSimulator(pd["workspaces"], api_key=pd["api_key"], api_secret=pd["api_secret"]) as ps, \
            BencherSimulator(load_bencher_fixture(FIXTURES / "bencher_tricky.json")) as bc:
        for k, v in {"BENCHLING_API_KEY": DEMO_API_KEY, **paradime_env(ps), **bencher_env(bc)}.items():
            monkeypatch.setenv(k, v)
        defs = load_example().build_definitions(sources=["benchling", "paradime", "bencher"], duckdb=str(db),
                                                base_url=bl.base_url)
        result = defs.resolve_job_def("whsync_daily").execute_in_process(instance=dg.DagsterInstance.ephemeral())
        served = {"benchling": bl.stats()["total"], "paradime": ps.stats()["requests"],
                  "bencher": bc.stats()["requests"]}
    assert result.success
    mats = {m.asset_key: m.metadata for m in result.asset_materializations_for_node("whsync_sync")}
    want = {dg.AssetKey([src, name.replace("$", "_")]): relation_label(ns, name)
            for src, rels in SOURCE_RELATIONS.items() if src in served for ns, name in rels}
    assert set(mats) == set(want)  # one asset per warehouse table of each source, all materialized

    con = duckdb.connect(str(db), read_only=True)
    try:
        assert_matches(con, json.loads(json.dumps(tenant.to_dict())))  # the warehouse equals the oracle
        run_id, sources = con.execute("select run_id, sources from sync_run").fetchone()  # one sync, one row
        for key, label in want.items():
            meta, src = mats[key], key.path[0]
            schema, _, table = label.rpartition(".")
            rows = con.execute(f'select count(*) from {schema + "." if schema else ""}"{table}"').fetchone()[0]
            assert meta["rows"].value == meta["dagster/row_count"].value == rows, label
            assert meta["requests"].value == served[src] == json.loads(sources)[src]["requests"] > 0, label
            assert meta["rate_limited"].value == 0 and meta["retries"].value == 0
            assert meta["run_id"].value == run_id
    finally:
        con.close()

    schedule = defs.resolve_schedule_def("whsync_daily_schedule")
    assert schedule.cron_schedule == "0 3 * * *" and schedule.job_name == "whsync_daily"


def test_a_failed_sync_fails_the_run_with_the_cause(tmp_path, monkeypatch):
    tenant = generate_tenant(seed=11, users=3, apps=1, teams=1, projects=1, folders=1)
    with BenchlingSimulator(tenant, api_key=DEMO_API_KEY, rate_limit="off") as bl:
        monkeypatch.setenv("BENCHLING_API_KEY", "wrong-key-0123456789")
        defs = load_example().build_definitions(duckdb=str(tmp_path / "w.duckdb"), base_url=bl.base_url)
        result = defs.resolve_job_def("whsync_daily").execute_in_process(
            instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "the Benchling API key was refused by 127.0.0.1 (HTTP 401)" in str(failure.event_specific_data.error)
    assert "wrong-key-0123456789" not in str(failure.event_specific_data.error)
