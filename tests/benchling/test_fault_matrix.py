"""Fault matrix: for each fault the simulator can inject, at 10 % of requests, the synced data equals a
fault-free sync row by row. Prints, per kind: faults injected, retries made, rows lost (must be 0)."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.benchling.client import BenchlingClient
from pipelines.benchling.simulator import DEMO_API_KEY, BenchlingSimulator, generate_tenant
from pipelines.progress import Progress
from pipelines.benchling.spec import benchling_plan, BenchlingConfig
from pipelines.targets import resolve_target
from pipelines.sync import sync

from ..warehouse.conftest import connect
from ..warehouse.oracle import COLUMNS, read_table

KINDS = ["429", "500", "502", "503", "504", "reset", "slow", "truncate", "nonjson",
         "duplicate", "extra_field", "missing_optional"]
RAW = {
    "users": ["id", "name", "handle", "email", "is_suspended", "api_key_last_changed_at", "password_last_changed_at"],
    "apps": ["id", "name", "description", "created_at", "modified_at", "creator__id", "app_definition__id",
             "archive_record__reason", "archived", "api_url", "web_url"],
    "teams": ["id", "name", "organization__id"],
    "team_memberships": ["team_id", "user__id", "user__handle", "user__name", "role"],
    "projects": ["id", "name", "owner__id", "archive_record__reason", "archived"],
    "folders": ["id", "name", "parent_folder_id", "project_id", "archive_record__reason", "archived"],
}


def tenant():
    return generate_tenant(seed=21, users=260, apps=4, teams=8, projects=30, folders=650)


def raw_rows(path: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t: sorted(con.execute(f"select {', '.join(c)} from benchling_raw.{t}").fetchall())
                for t, c in RAW.items()}
    finally:
        con.close()


def run(tmp: Path, build: bool, **sim_kw):
    # A read timeout below the simulator's 1.5 s `slow` answers, so that they are retried; only where slow
    # answers are injected: elsewhere a loaded test machine must not turn ordinary answers into retries.
    timeout_s = 0.5 if "slow" in str(sim_kw.get("faults", "")) else 10.0
    with BenchlingSimulator(tenant(), api_key=DEMO_API_KEY, rate_limit="off", **sim_kw) as sim:
        cfg = BenchlingConfig(sim.base_url, api_key=DEMO_API_KEY, timeout_s=timeout_s)
        result = sync(plans=[benchling_plan(cfg)], target=resolve_target(duckdb=tmp / "w.duckdb"), build=build, progress=Progress(quiet=True))
        return result, sim.stats()


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> Path:
    """The fault-free sync of `tenant()`, built: its raw rows are what every faulty sync must load, and its
    warehouse what the all-faults sync must build."""
    tmp = tmp_path_factory.mktemp("baseline")
    result, _ = run(tmp, build=True)
    return Path(result.warehouse)


@pytest.mark.parametrize("kind", KINDS)
def test_fault_kind_loses_nothing(kind, baseline, tmp_path, record_property, short_backoff):
    result, stats = run(tmp_path, build=False, faults=f"{kind}:0.1", fault_seed=7, slow_seconds=1.5)
    got = raw_rows(tmp_path / "w.duckdb")
    want = raw_rows(baseline)
    injected = stats.get("faults", {}).get(kind, 0)
    lost = sum(len(set(want[t]) - set(got[t])) for t in RAW)
    extra = sum(len(set(got[t]) - set(want[t])) for t in RAW)
    # printed in the run's summary (tests/conftest.py), also under pytest-xdist
    record_property("report", f"fault-matrix {kind:>16}: faults injected {injected:3d}, "
                              f"retries {result.retries:3d}, rows lost {lost}, rows added {extra}")
    assert injected > 0, "the fault was never injected: the test would prove nothing"
    assert got == want
    if kind in ("duplicate", "extra_field", "missing_optional"):
        assert result.retries == 0  # data-shape faults are absorbed, not retried
    else:
        assert result.retries >= injected


def test_all_faults_at_once_build_the_same_warehouse(baseline, tmp_path, short_backoff, monkeypatch):
    spec = ",".join(f"{k}:0.03" for k in KINDS[:9]) + ",duplicate:0.2,extra_field:0.2,missing_optional:0.2"
    # Twelve tries instead of six: with about a quarter of the answers failing, one of the ~300 requests fails
    # all six tries in about one run in ten (0.27^6 x 300), which ends the sync as it should (giving up after
    # the last try is tested in tests/test_http.py); this test is about every kind of fault absorbed at once.
    monkeypatch.setitem(BenchlingClient.__init__.__kwdefaults__, "max_tries", 12)
    faulty, stats = run(tmp_path / "faulty", build=True, faults=spec, fault_seed=3, slow_seconds=1.5)
    assert sum(stats["faults"].values()) > 0
    a, b = connect(baseline), connect(faulty.warehouse)
    try:
        for table, cols in COLUMNS.items():
            assert read_table(a, table, cols) == read_table(b, table, cols)
            assert read_table(a, f"{table}$raw", cols) == read_table(b, f"{table}$raw", cols)
    finally:
        a.close()
        b.close()
