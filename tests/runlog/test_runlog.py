"""The run log end to end: two syncs, then a failed one, against the Benchling simulator; `sync_run`
against what the simulator counted, `whsync status` as a monitor runs it, the time left shown on the
second sync, and `dbt source freshness` on the synced warehouse."""
from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import duckdb
import pytest

from pipelines.benchling.simulator import DEMO_API_KEY, BenchlingSimulator, generate_tenant
from pipelines.benchling.simulator.server import FixedWindowLimiter
from pipelines.dbt import DbtBuildError, run_dbt
from pipelines.progress import Progress
from pipelines.runlog import journal_path
from pipelines.sync import BenchlingConfig, duckdb_env, sync

WHSYNC = str(Path(sys.executable).with_name("whsync"))
WRONG_KEY = "sk-wrong-key-for-the-journal-0123456789"


def status(db: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENCHLING_")}
    return subprocess.run([WHSYNC, "status", "--duckdb", str(db), *args], capture_output=True, text=True,
                          timeout=120, env=env)


def sync_run_rows(db: Path) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("select * from sync_run order by started_at").fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """Two published syncs (the second throttled and watched), then one that fails at the API."""
    db = tmp_path_factory.mktemp("runlog") / "warehouse.duckdb"
    # 24 teams: 24 membership scans, 8 threads at a time, all held back by the limit together
    tenant = generate_tenant(seed=5, users=120, apps=2, teams=24, projects=4, folders=150)
    out = {"db": db, "tenant": tenant, "served": [], "results": [], "output": ""}
    with BenchlingSimulator(tenant, api_key=DEMO_API_KEY, rate_limit="off") as sim:
        cfg = BenchlingConfig(sim.base_url, api_key=DEMO_API_KEY)
        for i in range(2):
            sim.reset_stats()
            if i == 1:
                sim.limiter = FixedWindowLimiter(8, 1.0)
            stream = io.StringIO()
            with Progress(stream=stream, interval=0.3) as progress:
                out["results"].append(sync(benchling=cfg, warehouse=db, progress=progress))
            out["served"].append(sim.stats())
            out["output"] = stream.getvalue()
        out["before_failure"] = sync_run_rows(db)
        with pytest.raises(Exception) as err:
            sync(benchling=BenchlingConfig(sim.base_url, api_key=WRONG_KEY), warehouse=db,
                 progress=Progress(quiet=True))
        out["error"] = err.value
    return out


def test_sync_run_has_a_row_per_sync_with_the_simulators_counts(history):
    rows = sync_run_rows(history["db"])
    assert len(rows) == 2
    cols = ["run_id", "started_at", "finished_at", "target", "sources", "requests", "rate_limited", "retries",
            "extract_seconds", "build_seconds", "whsync_version"]
    con = duckdb.connect(str(history["db"]), read_only=True)
    try:
        assert [r[0] for r in con.execute("select column_name from information_schema.columns where "
                                          "table_name = 'sync_run' order by ordinal_position").fetchall()] == cols
        counts = {t: con.execute(f'select count(*) from "{t}"').fetchone()[0]
                  for t in ("user", "user$raw", "team_member", "folder", "folder$raw", "principal")}
    finally:
        con.close()
    for row, served, result in zip(rows, history["served"], history["results"]):
        r = dict(zip(cols, row))
        src = json.loads(r["sources"])
        assert list(src) == ["benchling"]
        b = src["benchling"]
        # what the simulator answered is what the run log says was sent
        assert r["requests"] == b["requests"] == served["total"] == result.requests
        assert r["rate_limited"] == b["rate_limited"] == served["rate_limited"]
        assert b["retries"] == r["retries"] == 0
        # pages per resource: one request each here (no retries)
        assert sum(b["pages"].values()) == served["total"]
        assert b["pages"]["team_memberships"] == served["by_path"].get("/api/v2/teams/{team_id}/memberships",
                                                                       b["pages"]["team_memberships"])
        for t, n in counts.items():
            assert b["rows"][t] == n
        assert r["run_id"] == result.run.run_id and r["target"] == "duckdb"
        assert r["started_at"] < r["finished_at"]
        assert r["whsync_version"] == metadata.version("whsync")
    assert rows[0][0] != rows[1][0] and rows[0][2] <= rows[1][1]
    # the second sync listed users incrementally: 1 page instead of 2
    first, second = (json.loads(r[4])["benchling"]["pages"] for r in rows)
    assert first["users"] == 2 and second["users"] == 1


def test_the_second_sync_showed_requests_expected_and_time_left(history):
    out = history["output"]
    first_pages = sum(json.loads(history["before_failure"][0][4])["benchling"]["pages"].values())
    totals = {int(m) for m in re.findall(r"benchling requests \d+/(\d+)", out)}
    # expected = the first sync's requests, less what users needed beyond the 1 page it took this time
    assert totals and max(totals) == first_pages and min(totals) == first_pages - 1
    assert re.search(r"about \d+s left", out)
    # rate-limit waiting is wall-clock time: never more than the extraction took, though 8 threads waited
    second = json.loads(history["before_failure"][1][4])["benchling"]
    assert 0 < second["waited_seconds"] <= second["seconds"]
    waited = [int(m) for m in re.findall(r"waited for it (\d+)s \(wall clock\)", out)]
    assert waited and max(waited) <= history["results"][1].extract_seconds + 1


def test_a_failed_sync_leaves_the_run_log_and_is_journaled(history):
    assert "refused" in str(history["error"])
    assert sync_run_rows(history["db"]) == history["before_failure"]
    entries = [json.loads(line) for line in journal_path(history["db"]).read_text().splitlines()]
    assert len(entries) == 1
    e = entries[0]
    assert e["cause"].startswith("the Benchling API key was refused by 127.0.0.1 (HTTP 401)")
    assert e["sources"] == ["benchling"] and e["exit_code"] == 1 and e["target"] == "duckdb"
    assert WRONG_KEY not in journal_path(history["db"]).read_text()


def test_status_names_the_failure_and_exits_1(history):
    p = status(history["db"], "--max-age", "26h")
    assert p.returncode == 1, p.stdout + p.stderr
    assert "FAILED" in p.stdout and "API key was refused by 127.0.0.1 (HTTP 401)" in p.stdout
    assert WRONG_KEY not in p.stdout + p.stderr


def test_status_json_field_by_field(history):
    p = status(history["db"], "--json", "--max-age", "90m")
    assert p.returncode == 1
    report = json.loads(p.stdout)
    assert report["status"] == "failed" and report["exit_code"] == 1 and report["max_age_seconds"] == 5400
    assert report["warehouse"] == str(history["db"].resolve())
    s, row = report["last_success"], dict(zip(["run_id", "started_at", "finished_at"], history["before_failure"][1]))
    assert s["run_id"] == row["run_id"] == history["results"][1].run.run_id
    assert s["finished_at"] == row["finished_at"].isoformat(timespec="seconds") + "Z"
    assert s["requests"] == history["served"][1]["total"] and s["requests_by_source"] == {"benchling": s["requests"]}
    assert s["rate_limited"] == history["served"][1]["rate_limited"] and s["retries"] == 0
    assert s["sources"] == ["benchling"] and s["target"] == "duckdb"
    assert 0 <= s["age_seconds"] < 600 and 0 < s["duration_seconds"] < 600
    assert s["rows"]["user"] == 120 and s["rows"]["team"] == 24 and s["rows"]["folder$raw"] == 150
    f = report["last_failure"]
    assert f["cause"].startswith("the Benchling API key was refused") and f["sources"] == ["benchling"]
    assert f["failed_at"] >= s["finished_at"]


def test_max_age_both_ways_without_the_failure(history, tmp_path):
    db = tmp_path / "copy.duckdb"
    shutil.copyfile(history["db"], db)  # the same warehouse, without the failure journal
    fresh = status(db, "--max-age", "1h")
    assert fresh.returncode == 0 and "FRESH" in fresh.stdout
    time.sleep(1.2)
    stale = status(db, "--max-age", "1s", "--json")
    assert stale.returncode == 1
    assert json.loads(stale.stdout)["status"] == "stale" and "more than --max-age 1s" in json.loads(stale.stdout)["reason"]


def test_status_bad_configuration_exits_2(tmp_path):
    p = status(tmp_path / "missing.duckdb")
    assert p.returncode == 2 and "no warehouse at" in p.stderr
    p = status(tmp_path / "missing.duckdb", "--max-age", "26")
    assert p.returncode == 2 and "26h, 90m" in p.stderr


def test_dbt_source_freshness_on_the_sync_time(history, tmp_path):
    db = tmp_path / "fresh.duckdb"
    shutil.copyfile(history["db"], db)
    select = ["--select", "source:benchling", "source:whsync"]
    seen: dict[str, str] = {}

    def freshness() -> None:
        run_dbt("source freshness", duckdb_env(db), key=str(db), extra_args=select,
                on_node=lambda node, status: seen.__setitem__(node.split(".")[-1], status))

    freshness()
    assert seen == {t: "pass" for t in ("users", "apps", "teams", "team_memberships", "projects", "folders",
                                        "sync_run")}
    con = duckdb.connect(str(db))
    try:  # three days pass without a sync
        for t in ("teams", "team_memberships", "projects", "folders"):
            con.execute(f"update benchling_raw.{t} set _synced_at = _synced_at - interval 3 day")
        con.execute("update benchling_raw._dlt_loads set inserted_at = inserted_at - interval 3 day")
        con.execute("update sync_run set finished_at = finished_at - interval 3 day")
    finally:
        con.close()
    seen.clear()
    with pytest.raises(DbtBuildError, match="dbt source freshness failed"):
        freshness()
    assert seen == {t: "error" for t in ("users", "apps", "teams", "team_memberships", "projects", "folders",
                                         "sync_run")}
