"""Kills, concurrent readers, overlapping syncs and secrets: the warehouse never loses a row or
leaks a key. The syncs under test run as real `whsync` processes."""
from __future__ import annotations

import base64
import gzip
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import duckdb
import pytest
import requests

from pipelines.benchling.simulator import BenchlingSimulator, generate_tenant
from pipelines.dbt import _work_dir
from pipelines.progress import Progress
from pipelines.benchling.spec import benchling_plan, BenchlingConfig
from pipelines.targets import resolve_target
from pipelines.sync import sync

from .helpers import seeded_cache
from .warehouse.conftest import tenant_dict
from .warehouse.oracle import COLUMNS, expected_raw, read_table
from tests import forkserver

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
    return sync(plans=[benchling_plan(BenchlingConfig(sim.base_url, api_key=KEY))], target=resolve_target(duckdb=path), progress=Progress(quiet=True))


@pytest.fixture(scope="module")
def synced_small(tmp_path_factory) -> Path:
    """`small_tenant()` synced once (in this process) for the module: the tests that start from a published
    warehouse copy it instead of syncing the same (deterministic) tenant again."""
    path = tmp_path_factory.mktemp("synced") / "warehouse.duckdb"
    with BenchlingSimulator(small_tenant(), api_key=KEY, rate_limit="off") as sim:
        in_process_sync(sim, path)
    assert raw_snapshot(path) == expected_raw(tenant_dict(small_tenant()))
    return path


def published_copy(synced_small: Path, path: Path) -> None:
    """The module's published warehouse at `path`, as if this test's first sync had just made it."""
    shutil.copyfile(synced_small, path)


def start_sync(sim, path: Path, *extra: str, env_extra=None) -> subprocess.Popen:
    env = {**os.environ, "BENCHLING_API_KEY": KEY, **(env_extra or {})}
    return forkserver.Popen([WHSYNC, "sync", "--base-url", sim.base_url, "--duckdb", str(path), *extra],
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


class Watched:
    """A running `whsync sync` whose stderr (the stages it reports) is read by a thread, so a test can wait
    for a point of the sync and confirm, after killing it, that the kill landed there."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._reader = threading.Thread(target=lambda: self.lines.extend(iter(proc.stderr.readline, "")),
                                        daemon=True)
        self._reader.start()

    def reported(self, text: str) -> bool:
        return any(text in line for line in list(self.lines))

    def kill_when(self, ready: Callable[[], bool], what: str, timeout: float = 120) -> None:
        """Poll `ready` (a marker the sync writes or a stage it reports) and SIGKILL the sync the moment it
        holds; fail if the sync ended first."""
        deadline = time.monotonic() + timeout
        while not ready():
            assert self.proc.poll() is None, f"the sync ended before {what}: {self.lines}"
            assert time.monotonic() < deadline, f"no {what} within {timeout}s"
            time.sleep(0.005)
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)
        self._reader.join(10)
        assert self.proc.returncode == -signal.SIGKILL, f"the sync had ended by itself: {self.lines}"


def dbt_finished_a_model(warehouse: Path) -> bool:
    """dbt's own log for this warehouse (pipelines/dbt.py keeps one per warehouse file, at the info level in a
    sync) records a finished model (`N of M OK created ... model`): the build is under way."""
    log = _work_dir(str(warehouse.resolve())) / "logs" / "dbt.log"
    return log.is_file() and re.search(r"\d+ of \d+ OK created \S+ \S+ model ", log.read_text(errors="replace")) is not None


def dlt_is_loading(dlt_dir: Path) -> bool:
    """A normalized load package in dlt's kept working directory: dlt is loading it into the warehouse."""
    return any(p.is_dir() for p in dlt_dir.glob("*/*/load/normalized/*"))


# point: (when to kill, stage that must not have been reported yet: the kill landed before it)
KILL_POINTS = {
    "mid-extract": (lambda sim, w, tmp: w.reported("extracting from Benchling") and sim.stats()["total"] >= 3,
                    "building the warehouse"),
    "mid-load": (lambda sim, w, tmp: dlt_is_loading(tmp / "dlt"), "building the warehouse"),
    "mid dbt build": (lambda sim, w, tmp: dbt_finished_a_model(tmp / "warehouse.duckdb"), "publishing"),
    "at publish": (lambda sim, w, tmp: w.reported("publishing"), None),
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_sigkill_anywhere_then_rerun_converges(point, tmp_path, synced_small):
    ready, not_yet = KILL_POINTS[point]
    tenant = small_tenant()
    path = tmp_path / "warehouse.duckdb"
    with BenchlingSimulator(tenant, api_key=KEY, rate_limit="off", latency_ms=40) as sim:
        published_copy(synced_small, path)  # the first, published sync of this tenant
        before = raw_snapshot(path)
        suspend_someone(sim, tenant)
        sim.reset_stats()

        proc = start_sync(sim, path, env_extra={"WHSYNC_KEEP_DLT_DIR": str(tmp_path / "dlt")})
        sync = Watched(proc)
        sync.kill_when(lambda: ready(sim, sync, tmp_path), point)
        # confirmed: killed at that point, not later (the next stage was not reported, or the result not printed)
        if not_yet:
            assert not sync.reported(not_yet), sync.lines
        assert "synced" not in proc.stdout.read()

        # the published warehouse is either exactly the old one or (killed after publishing) the new one
        now = raw_snapshot(path)
        want = expected_raw(tenant_dict(tenant))
        assert now == before or (point == "at publish" and now == want)

        sim.latency_ms = 0  # the latency only slowed the killed sync down to its kill point
        in_process_sync(sim, path)  # the rerun cleans up the leftovers and converges
        assert raw_snapshot(path) == want
    assert not list(tmp_path.glob(".warehouse.duckdb.building*"))


def test_reader_keeps_a_snapshot_while_a_sync_publishes(tmp_path, synced_small):
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
        published_copy(synced_small, path)  # the first, published sync of this tenant
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


@dataclass
class Ran:
    returncode: int
    out: str
    err: str


@pytest.fixture(scope="module")
def overlapping_runs(tmp_path_factory) -> dict:
    """Four `whsync sync` processes on one new warehouse, each as in production but for two things: dlt logs at
    DEBUG, and everything they write stays under one folder (TMPDIR, whsync's cache with dbt's logs and target,
    dlt's working directories, kept). The first holds the warehouse for as long as needed: the simulator parks
    its requests until a second sync has been refused and a third, with --wait, has said that it waits (no race
    with a slow machine, no latency to wait out); then the first and the third finish. A fourth, with a wrong
    key, fails. `test_overlapping_syncs_second_exits_or_waits` checks the lock, `test_key_never_leaves_the_process`
    searches all they printed and wrote for the key."""
    root = tmp_path_factory.mktemp("overlapping")
    tmpdir = root / "tmp"
    tmpdir.mkdir()
    path = root / "warehouse.duckdb"
    env = {"RUNTIME__LOG_LEVEL": "DEBUG", "TMPDIR": str(tmpdir), "WHSYNC_CACHE_DIR": str(seeded_cache(tmpdir / "whsync")),
           "WHSYNC_KEEP_DLT_DIR": str(root / "dlt")}
    tenant = small_tenant()
    first_asked, release = threading.Event(), threading.Event()

    def hold(req):  # the simulator's hook, in its handler threads: park every request until released
        first_asked.set()
        assert release.wait(120), "the test never released the first sync"
        return None

    with BenchlingSimulator(tenant, api_key=KEY, rate_limit="off", request_hook=hold) as sim:
        try:
            first = start_sync(sim, path, env_extra=env)
            assert first_asked.wait(120), "the first sync sent no request"  # it holds the lock (taken before any)
            second = start_sync(sim, path, env_extra=env)
            out2, err2 = second.communicate(timeout=60)
            waiting = start_sync(sim, path, "--wait", "300", env_extra=env)
            said = []
            deadline = time.monotonic() + 120
            while not any("waiting for another whsync run" in line for line in said):
                line = waiting.stderr.readline()
                assert line or waiting.poll() is None, f"the --wait sync ended without waiting: {said}"
                assert time.monotonic() < deadline, f"the --wait sync did not wait: {said}"
                said.append(line)
            first_held = first.poll() is None
        finally:
            release.set()
        out1, err1 = first.communicate(timeout=300)
        out3, err3 = waiting.communicate(timeout=300)
        bad = start_sync(sim, path, env_extra={**env, "BENCHLING_API_KEY": KEY + "x"})
        out4, err4 = bad.communicate(timeout=60)
    return {"root": root, "tmpdir": tmpdir, "dlt_dir": root / "dlt", "warehouse": path, "tenant": tenant,
            "first_held": first_held,
            "first": Ran(first.returncode, out1, err1), "refused": Ran(second.returncode, out2, err2),
            "waiting": Ran(waiting.returncode, out3, "".join(said) + err3),
            "wrong_key": Ran(bad.returncode, out4, err4)}


def test_overlapping_syncs_second_exits_or_waits(overlapping_runs):
    runs = overlapping_runs
    path = runs["warehouse"]
    assert runs["refused"].returncode == 1
    assert "another whsync run is writing" in runs["refused"].err and str(path) in runs["refused"].err
    assert runs["first_held"], "the first sync was still running (held) when the third began to wait"
    assert "waiting for another whsync run" in runs["waiting"].err
    assert runs["first"].returncode == 0, runs["first"].err
    assert runs["waiting"].returncode == 0, runs["waiting"].err
    assert raw_snapshot(path) == expected_raw(tenant_dict(runs["tenant"]))


def key_forms(key: str) -> list[bytes]:
    """Every byte form the key could be stored in: raw, UTF-16, the `Basic` header's base64 of "key:", and
    any base64 stream holding the key (standard or URL-safe) at each of the three alignments: the middle
    of its encoding, which does not depend on the bytes around it."""
    forms = [key.encode(), key.encode("utf-16-le"), key.encode("utf-16-be"),
             base64.b64encode(f"{key}:".encode())]
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        for offset in range(3):
            enc = encode(b"\0" * offset + key.encode())
            forms.append(enc[4 if offset else 0: -4])
    return forms


def readable_forms(p: Path) -> list[bytes]:
    """A file's bytes, and what is inside it when it is compressed: gzip (dlt's load files), Parquet."""
    data = p.read_bytes()
    out = [data]
    if data[:2] == b"\x1f\x8b":
        out.append(gzip.decompress(data))
    if p.suffix == ".parquet":
        import pyarrow.parquet as pq

        out.append(repr(pq.read_table(p).to_pylist()).encode())
    return out


def warehouse_texts(path: Path) -> list[str]:
    """Every text value in the warehouse (DuckDB compresses strings on disk: bytes prove nothing), with dlt's
    compressed state (`_dlt_pipeline_state.state`) decoded."""
    from dlt.common.versioned_state import decompress_state

    con = duckdb.connect(str(path), read_only=True)
    try:
        cols = con.execute("select table_schema, table_name, column_name, data_type "
                           "from information_schema.columns").fetchall()
        texts = []
        for schema, table, col, typ in cols:
            if typ in ("VARCHAR", "JSON") or typ.startswith("STRUCT") or typ.endswith("[]"):
                texts += [str(v) for (v,) in con.execute(f'select "{col}" from "{schema}"."{table}"').fetchall()]
        states = [r[0] for schema, table, *_ in {c[:2] for c in cols} if table == "_dlt_pipeline_state"
                  for r in con.execute(f'select state from "{schema}"."{table}"').fetchall()]
    finally:
        con.close()
    assert states, "the warehouse holds dlt's state"
    return texts + [json.dumps(decompress_state(s)) for s in states]


def test_key_never_leaves_the_process(overlapping_runs):
    """Debug logging on; the key must not appear in output, the warehouse (decoded), dlt's working directories
    (kept for the search) or any file the syncs write, in any encoding it could take: four syncs of one
    warehouse (the one that held it, the one refused by its lock, the one that waited, one with a wrong key)."""
    runs = overlapping_runs
    path, tmpdir, dlt_dir = runs["warehouse"], runs["tmpdir"], runs["dlt_dir"]
    assert runs["first"].returncode == 0, runs["first"].err
    assert runs["wrong_key"].returncode == 1
    outputs = [t for name in ("first", "refused", "waiting", "wrong_key") for t in (runs[name].out, runs[name].err)]
    assert len(runs["first"].out + runs["first"].err) > 0
    needles = key_forms(KEY)
    for text in (*outputs, *warehouse_texts(path)):
        for n in needles:
            assert n.decode("latin-1") not in text
    files = [p for p in runs["root"].rglob("*") if p.is_file()]
    assert path in files and any(tmpdir / "whsync" / "dbt" in p.parents for p in files)  # dbt's logs and target were searched
    kept = [p for p in files if dlt_dir in p.parents]
    assert any(p.name == "state.json" for p in kept) and any("load" in p.parts for p in kept)  # dlt's own files
    for p in files:
        for data in readable_forms(p):
            for n in needles:
                assert n not in data, f"the API key is in {p}"


def test_the_search_finds_each_form_it_looks_for(tmp_path):
    """The needles are right: each way the key could be written is found (so a clean search means clean)."""
    header = b"Authorization: Basic " + base64.b64encode(f"{KEY}:".encode())
    blobs = [header, KEY.encode("utf-16-le"), b"xx" + base64.b64encode(b"pre" + b"a" * 7 + KEY.encode() + b"tail"),
             base64.urlsafe_b64encode(b"z" + KEY.encode() + b"zz")]
    for blob in blobs:
        assert any(n in blob for n in key_forms(KEY)), blob
    gz = tmp_path / "x.jsonl.gz"
    gz.write_bytes(gzip.compress(json.dumps({"k": KEY}).encode()))
    assert any(KEY.encode() in d for d in readable_forms(gz))
