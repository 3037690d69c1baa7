"""`whsync status` as a monitor relies on it, on both targets (issue 25): a sync refused by the writer
lock is not a failure (another run is working, status stays FRESH, exit 0), and a PostgreSQL
`--schema` that does not exist is bad configuration (exit 2), like a missing DuckDB file."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.benchling.simulator import DEMO_API_KEY, BenchlingSimulator, generate_tenant
from pipelines.journal import last_failure_of
from pipelines.progress import Progress
from pipelines.benchling.spec import BenchlingConfig, benchling_plan
from pipelines.sync import sync
from pipelines.targets import TargetBusyError, resolve_target
from pipelines.targets.pgconn import PgConfig
from tests import forkserver
from tests.helpers import child_env

WHSYNC = str(Path(sys.executable).with_name("whsync"))


def status(target, *args: str) -> subprocess.CompletedProcess:
    env = child_env("BENCHLING_", "WHSYNC_", "PG")
    if target.name == "postgres":
        env["WHSYNC_POSTGRES_DSN"] = target.cfg.dsn
        where = ["--target", "postgres"]
    else:
        where = ["--duckdb", str(target.path)]
    return forkserver.run([WHSYNC, "status", *where, *args], capture_output=True, text=True, env=env, timeout=120)


def test_a_sync_refused_by_the_lock_is_not_journaled_as_a_failure(target):
    tenant = generate_tenant(seed=3, users=4, apps=1, teams=2, projects=2, folders=3)
    with BenchlingSimulator(tenant, api_key=DEMO_API_KEY, rate_limit="off") as sim:
        cfg = BenchlingConfig(sim.base_url, api_key=DEMO_API_KEY)
        sync(plans=[benchling_plan(cfg)], target=target, progress=Progress(quiet=True))
        with target.lock(0):  # another whsync run holds the warehouse
            with pytest.raises(TargetBusyError, match="another whsync run is writing"):
                sync(plans=[benchling_plan(cfg)], target=target, progress=Progress(quiet=True), wait_seconds=0)
            p = status(target, "--max-age", "1h")
    assert last_failure_of(target) is None
    assert p.returncode == 0 and "FRESH" in p.stdout, p.stdout + p.stderr


def test_status_of_a_postgres_schema_that_does_not_exist_is_exit_2(pg_server):
    target = resolve_target(postgres=PgConfig.from_dsn(pg_server.dsn(pg_server.create_database())))
    p = status(target, "--schema", "warehuose")
    assert p.returncode == 2, p.stdout + p.stderr
    assert p.stderr.strip().startswith("whsync: error: no warehouse schema 'warehuose' in postgresql://")
    assert "check --schema" in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert pg_server.password not in p.stdout + p.stderr
    p = status(target, "--schema", "warehuose", "--json")
    assert p.returncode == 2 and '"exit_code": 2' in p.stdout
