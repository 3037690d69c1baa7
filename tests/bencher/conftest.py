from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "bencher_tricky.json"


@pytest.fixture
def fx():
    from pipelines.bencher.simulator import load_fixture

    return load_fixture(FIXTURE)


@pytest.fixture
def sim(fx):
    from pipelines.bencher.simulator import BencherSimulator

    with BencherSimulator(fx, token=fx["token"], port=0) as s:
        yield s


@pytest.fixture
def config(sim, fx):
    from pipelines.bencher.source import BencherConfig

    return BencherConfig(base_url=sim.base_url, token=fx["token"])


@pytest.fixture
def make_pipeline(tmp_path):
    import dlt

    def make():
        return dlt.pipeline(
            pipeline_name=f"bencher_{uuid.uuid4().hex[:8]}",
            destination=dlt.destinations.duckdb(str(tmp_path / "w.duckdb")),
            dataset_name="bencher_raw",
            pipelines_dir=str(tmp_path / "p"),
        )

    return make
