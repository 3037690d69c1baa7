"""Kills, concurrent readers, overlapping syncs and secrets: the warehouse never loses a row or
leaks a key. The syncs under test run as real `whsync` processes."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest
import requests

from pipelines.benchling.simulator import BenchlingSimulator, generate_tenant
from pipelines.progress import Progress
from pipelines.sync import BenchlingConfig, sync

from .warehouse.conftest import tenant_dict
from .warehouse.oracle import COLUMNS, expected_raw, read_table

WHSYNC = str(Path(sys.executable).with_name("whsync"))
KEY = "sk-resilience-7f3a9c1e5b2d4a60b8e1"


def small_tenant():
    return generate_tenant(seed=17, users=150, apps=3, teams=8, projects=25, folders=300)


def raw_snapshot(path: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t: read_table(con, f"{t}$raw", cols) for t, cols in COLUMNS.items()}
    finally:
        con.close()


def in_process_sync(sim, path: Path):
    return sync(benchling=BenchlingConfig(sim.base_url, api_key=KEY), warehouse=path, progress=Progress(quiet=True))


def start_sync(sim, path: Path, *extra: str, env_extra=None) -> subprocess.Popen:
    env = {**os.environ, "BENCHLING_API_KEY": KEY, **(env_extra or {})}
    return subprocess.Popen([WHSYNC, "sync", "--base-url", sim.base_url, "--duckdb", str(path), *extra],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_line(proc: subprocess.Popen, needle: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if needle in line:
            return
        if not line and proc.poll() is not None:
            raise AssertionError(f"sync ended before {needle!r}: rc={proc.returncode}")
    raise AssertionError(f"no {needle!r} within {timeout}s")


def suspend_someone(sim, tenant) -> None:
    user = next(u for u in tenant.users if not u["isSuspended"])
    r = requests.patch(f"{sim.base_url}/users/{user['id']}", json={"isSuspended": True}, auth=(KEY, ""))
    assert r.status_code == 200


@pytest.mark.parametrize("stage,delay", [
    ("extracting from Benchling", 0.4),   # mid-extract (pages still arriving)
    ("extracting from Benchling", 1.5),   # later in extract/normalize/load
    ("building the warehouse", 1.0),      # mid dbt build
    ("publishing", 0.0),                  # at publish
])
def test_sigkill_anywhere_then_rerun_converges(stage, delay, tmp_path):
    tenant = small_tenant()
    path = tmp_path / "warehouse.duckdb"
    with BenchlingSimulator(tenant, api_key=KEY, rate_limit="off", latency_ms=40) as sim:
        in_process_sync(sim, path)
        before = raw_snapshot(path)
        suspend_someone(sim, tenant)

        proc = start_sync(sim, path)
        wait_for_line(proc, stage)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)

        # the published warehouse is either exactly the old one or (killed after publishing) the new one
        now = raw_snapshot(path)
        want = expected_raw(tenant_dict(tenant))
        assert now == before or now == want

        in_process_sync(sim, path)  # the rerun cleans up the leftovers and converges
        assert raw_snapshot(path) == want
    assert not list(tmp_path.glob(".warehouse.duckdb.building*"))


def test_reader_keeps_a_snapshot_while_a_sync_publishes(tmp_path):
    tenant = small_tenant()
    path = tmp_path / "warehouse.duckdb"
    reader_code = textwrap.dedent(f"""
        import duckdb, sys
        con = duckdb.connect({str(path)!r}, read_only=True)
        q = 'select count(*) from "user" where is_suspended'
        print(con.execute(q).fetchone()[0], flush=True)
        sys.stdin.readline()                      # the sync runs and publishes now
        print(con.execute(q).fetchone()[0], flush=True)       # same connection: old snapshot
        con.close()  # DuckDB shares one instance per file in a process: reconnect after closing
        print(duckdb.connect({str(path)!r}, read_only=True).execute(q).fetchone()[0], flush=True)
    """)
    with BenchlingSimulator(tenant, api_key=KEY, rate_limit="off") as sim:
        in_process_sync(sim, path)
        reader = subprocess.Popen([sys.executable, "-c", reader_code], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        first = int(reader.stdout.readline())
        suspend_someone(sim, tenant)
        proc = start_sync(sim, path)  # a real second process writes while the reader holds the file
        _, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
        out, _ = reader.communicate("go\n", timeout=60)
    same_conn, new_conn = (int(x) for x in out.split())
    assert same_conn == first
    assert new_conn == first + 1
    # and a new process sees the new warehouse too
    assert raw_snapshot(path)["user"] == expected_raw(tenant_dict(tenant))["user"]


def test_overlapping_syncs_second_exits_or_waits(tmp_path):
    tenant = small_tenant()
    path = tmp_path / "warehouse.duckdb"
    with BenchlingSimulator(tenant, api_key=KEY, rate_limit="off", latency_ms=60) as sim:
        first = start_sync(sim, path)
        wait_for_line(first, "extracting from Benchling")
        second = start_sync(sim, path)
        _, err = second.communicate(timeout=60)
        assert second.returncode == 1
        assert "another whsync run is writing" in err and str(path) in err
        waiting = start_sync(sim, path, "--wait", "300")
        _, err1 = first.communicate(timeout=300)
        _, err3 = waiting.communicate(timeout=300)
        assert first.returncode == 0, err1
        assert waiting.returncode == 0, err3
        assert "waiting for another whsync run" in err3
    assert raw_snapshot(path) == expected_raw(tenant_dict(tenant))


def test_key_never_leaves_the_process(tmp_path):
    """Debug logging on; the key must not appear in output, the warehouse, or any file the sync writes."""
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    path = tmp_path / "warehouse.duckdb"
    with BenchlingSimulator(small_tenant(), api_key=KEY, rate_limit="off") as sim:
        proc = start_sync(sim, path, env_extra={"RUNTIME__LOG_LEVEL": "DEBUG", "TMPDIR": str(tmpdir)})
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
        bad = start_sync(sim, path, env_extra={"BENCHLING_API_KEY": KEY + "x", "RUNTIME__LOG_LEVEL": "DEBUG",
                                               "TMPDIR": str(tmpdir)})
        out2, err2 = bad.communicate(timeout=60)
        assert bad.returncode == 1
    assert len(out + err) > 0
    for text in (out, err, out2, err2):
        assert KEY not in text
    needles = [KEY.encode(), KEY.encode("utf-16-le")]
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert path in files and any("whsync-dbt" in str(p) for p in files)  # dbt's logs and target were searched
    for p in files:
        data = p.read_bytes()
        for n in needles:
            assert n not in data, f"the API key is in {p}"
