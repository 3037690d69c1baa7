from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Iterator

import duckdb
import pytest

from pipelines.benchling.simulator import DEMO_API_KEY, BenchlingSimulator, Tenant
from pipelines.progress import Progress
from pipelines.benchling.spec import benchling_plan, BenchlingConfig
from pipelines.targets import resolve_target
from pipelines.sync import SyncResult, sync

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
def tricky_tenant() -> Tenant:
    return Tenant.load(FIXTURES / "benchling_tricky.json")


@pytest.fixture
def run_sync(tmp_path: Path) -> Callable[..., SyncResult]:
    """Sync a simulator into tmp_path/warehouse.duckdb (quietly) and return the result."""

    def run(sim: BenchlingSimulator, **kw: Any) -> SyncResult:
        cfg = BenchlingConfig(sim.base_url, api_key=DEMO_API_KEY)
        return sync(plans=[benchling_plan(cfg)], target=resolve_target(duckdb=tmp_path / "warehouse.duckdb"), progress=Progress(quiet=True), **kw)

    return run


@pytest.fixture
def serve() -> Iterator[Callable[..., BenchlingSimulator]]:
    sims: list[BenchlingSimulator] = []

    def start(tenant: Tenant, **kw: Any) -> BenchlingSimulator:
        kw.setdefault("rate_limit", "off")
        sim = BenchlingSimulator(tenant, api_key=DEMO_API_KEY, **kw).start()
        sims.append(sim)
        return sim

    yield start
    for s in sims:
        s.stop()


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(path), read_only=True)


def tenant_dict(tenant: Tenant) -> dict[str, Any]:
    return json.loads(json.dumps(tenant.to_dict()))
