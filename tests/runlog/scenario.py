"""The run-log scenario, the same on every target: two published syncs against the Benchling
simulator (the second throttled and watched), `whsync status` run as a monitor runs it at each step,
then a sync that fails at the API. The test modules (tests/runlog for DuckDB, tests/postgres for
PostgreSQL) check what it recorded with the functions below."""
from __future__ import annotations

import io
import json
import os
import re
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

import pytest

from pipelines.benchling.simulator import DEMO_API_KEY, BenchlingSimulator, generate_tenant
from pipelines.benchling.simulator.server import FixedWindowLimiter
from pipelines.progress import Progress
from pipelines.benchling.spec import benchling_plan, BenchlingConfig
from pipelines.sync import sync
from tests import forkserver
from tests.helpers import child_env

WHSYNC = str(Path(sys.executable).with_name("whsync"))
WRONG_KEY = "sk-wrong-key-for-the-journal-0123456789"
COLUMNS = ["run_id", "started_at", "finished_at", "target", "sources", "requests", "rate_limited", "retries",
           "extract_seconds", "build_seconds", "whsync_version"]
TABLES = ("user", "user$raw", "team", "team_member", "folder", "folder$raw", "principal")


@dataclass
class Warehouse:
    """One target under test: how to sync into it, run `whsync status` on it and read it back."""

    name: str  # duckdb | postgres
    sync_kwargs: dict[str, Any]  # for pipelines.sync.sync (target=...)
    status_args: list[str]  # CLI options selecting it
    env: dict[str, str]
    query: Callable[[str], list[tuple]]  # SQL against the published warehouse
    journal: Callable[[], list[dict[str, Any]]]  # failed attempts recorded, oldest first
    journal_text: Callable[[], str]  # everything the journal holds, for the secret check
    label: str = ""
    recorded: dict[str, Any] = field(default_factory=dict)

    def status(self, *args: str, subprocess_: bool = False) -> Any:
        """`whsync status ...` on this warehouse: in this process (typer's runner; the same app and
        exit code), or as a monitor runs it, in its own process. Has .returncode, .stdout, .stderr."""
        env = child_env("BENCHLING_", "WHSYNC_", "PG")
        env.update(self.env)
        if subprocess_:
            return forkserver.run([WHSYNC, "status", *self.status_args, *args], capture_output=True, text=True,
                                  timeout=120, env=env)
        return run_in_process(["status", *self.status_args, *args], self.env)

    def sync_run(self) -> list[dict[str, Any]]:
        return [dict(zip(COLUMNS, r)) for r in self.query(f"select {', '.join(COLUMNS)} from sync_run order by started_at")]


def run_in_process(args: list[str], env: dict[str, str]) -> Any:
    from typer.testing import CliRunner

    from pipelines.cli import app

    kept = child_env("WHSYNC_")
    res = CliRunner().invoke(app, args, env={k: None for k in os.environ if k not in kept} | env)
    return SimpleNamespace(returncode=res.exit_code, stdout=res.stdout, stderr=res.stderr)


def record_history(wh: Warehouse) -> Warehouse:
    """Run the scenario; keep what each step produced in `wh.recorded`."""
    # 24 teams: 24 membership scans, 8 threads at a time, all held back by the limit together
    tenant = generate_tenant(seed=5, users=120, apps=2, teams=24, projects=4, folders=150)
    rec = wh.recorded
    rec.update(served=[], results=[], output="")
    with BenchlingSimulator(tenant, api_key=DEMO_API_KEY, rate_limit="off") as sim:
        cfg = BenchlingConfig(sim.base_url, api_key=DEMO_API_KEY)
        for i in range(2):
            sim.reset_stats()
            if i == 1:  # ~150 requests in 1 s windows of 20: 8 windows, every thread held back in each
                sim.limiter = FixedWindowLimiter(20, 1.0)
            stream = io.StringIO()
            with Progress(stream=stream, interval=0.3) as progress:
                rec["results"].append(sync(plans=[benchling_plan(cfg)], progress=progress, **wh.sync_kwargs))
            rec["served"].append(sim.stats())
            rec["output"] = stream.getvalue()
        rec["counts"] = {t: wh.query(f'select count(*) from "{t}"')[0][0] for t in TABLES}
        rec["before_failure"] = wh.sync_run()
        rec["fresh"] = wh.status("--max-age", "1h")
        time.sleep(1.2)
        rec["stale"] = wh.status("--max-age", "1s", "--json")
        with pytest.raises(Exception) as err:
            sync(plans=[benchling_plan(BenchlingConfig(sim.base_url, api_key=WRONG_KEY))], progress=Progress(quiet=True),
                 **wh.sync_kwargs)
        rec["error"] = err.value
    rec["failed"] = wh.status("--max-age", "26h", subprocess_=True)
    rec["failed_json"] = wh.status("--json", "--max-age", "90m")
    return wh


def check_sync_run(wh: Warehouse) -> None:
    """One row per published sync, with the simulator's counts and the warehouse's rows."""
    rec, rows = wh.recorded, wh.recorded["before_failure"]
    assert len(rows) == 2
    assert [r[0] for r in wh.query("select column_name from information_schema.columns where table_name = "
                                   "'sync_run' and table_schema = current_schema() order by ordinal_position")] == COLUMNS
    for r, served, result in zip(rows, rec["served"], rec["results"]):
        b = json.loads(r["sources"])["benchling"]
        # what the simulator answered is what the run log says was sent
        assert r["requests"] == b["requests"] == served["total"] == result.requests
        assert r["rate_limited"] == b["rate_limited"] == served["rate_limited"]
        assert b["retries"] == r["retries"] == 0
        assert sum(b["pages"].values()) == served["total"]  # a page per request (no retries here)
        assert {t: b["rows"][t] for t in TABLES} == rec["counts"]
        assert r["run_id"] == result.run.run_id and r["target"] == wh.name
        assert r["started_at"] < r["finished_at"]
        assert r["whsync_version"] == metadata.version("whsync")
    assert rows[0]["run_id"] != rows[1]["run_id"] and rows[0]["finished_at"] <= rows[1]["started_at"]
    # the second sync listed users incrementally: 1 page instead of 2
    first, second = (json.loads(r["sources"])["benchling"]["pages"] for r in rows)
    assert first["users"] == 2 and second["users"] == 1


def check_progress(wh: Warehouse) -> None:
    """The second sync showed requests done/expected and the time left; waiting is wall-clock time."""
    out, rows = wh.recorded["output"], wh.recorded["before_failure"]
    first_pages = sum(json.loads(rows[0]["sources"])["benchling"]["pages"].values())
    totals = {int(m) for m in re.findall(r"benchling requests \d+/(\d+)", out)}
    # expected = the first sync's requests, less the page users did not need this time
    assert totals and max(totals) == first_pages and min(totals) == first_pages - 1
    assert re.search(r"about \d+s left", out)
    second = json.loads(rows[1]["sources"])["benchling"]
    assert 0 < second["waited_seconds"] <= second["seconds"]  # 8 threads waited, counted once
    waited = [int(m) for m in re.findall(r"waited for it (\d+)s \(wall clock\)", out)]
    assert waited and max(waited) <= wh.recorded["results"][1].extract_seconds + 1


def check_failure(wh: Warehouse) -> None:
    """The failed sync left sync_run as it was and journaled its one-line cause, without the key."""
    rec = wh.recorded
    assert "refused" in str(rec["error"])
    assert wh.sync_run() == rec["before_failure"]
    entries = wh.journal()
    assert len(entries) == 1
    e = entries[0]
    assert e["cause"].startswith("the Benchling API key was refused by 127.0.0.1 (HTTP 401)")
    assert e["sources"] == ["benchling"] and e["exit_code"] == 1 and e["target"] == wh.name
    assert WRONG_KEY not in wh.journal_text()


def check_status(wh: Warehouse) -> None:
    """`whsync status`: fresh and stale by --max-age before the failure; failed, naming it, after."""
    rec = wh.recorded
    assert rec["fresh"].returncode == 0 and "FRESH" in rec["fresh"].stdout, rec["fresh"].stderr
    stale = json.loads(rec["stale"].stdout)
    assert rec["stale"].returncode == 1 and stale["status"] == "stale" and stale["exit_code"] == 1
    assert "more than --max-age 1s" in stale["reason"] and stale["last_failure"] is None
    p = rec["failed"]
    assert p.returncode == 1, p.stdout + p.stderr
    assert "FAILED" in p.stdout and "API key was refused by 127.0.0.1 (HTTP 401)" in p.stdout
    assert WRONG_KEY not in p.stdout + p.stderr

    report = json.loads(rec["failed_json"].stdout)
    assert rec["failed_json"].returncode == 1
    assert report["status"] == "failed" and report["exit_code"] == 1 and report["max_age_seconds"] == 5400
    assert report["warehouse"] == wh.label
    s, row = report["last_success"], rec["before_failure"][1]
    assert s["run_id"] == row["run_id"] == rec["results"][1].run.run_id
    assert s["finished_at"] == row["finished_at"].isoformat(timespec="seconds") + "Z"
    assert s["started_at"] == row["started_at"].isoformat(timespec="seconds") + "Z"
    assert s["requests"] == rec["served"][1]["total"] and s["requests_by_source"] == {"benchling": s["requests"]}
    assert s["rate_limited"] == rec["served"][1]["rate_limited"] and s["retries"] == 0
    assert s["sources"] == ["benchling"] and s["target"] == wh.name
    assert s["whsync_version"] == metadata.version("whsync")
    assert 0 <= s["age_seconds"] < 600 and 0 < s["duration_seconds"] < 600
    assert {t: s["rows"][t] for t in TABLES} == rec["counts"]
    f = report["last_failure"]
    assert f["cause"].startswith("the Benchling API key was refused") and f["sources"] == ["benchling"]
    assert f["failed_at"] >= s["finished_at"] and f["run_id"] == wh.journal()[0]["run_id"]
