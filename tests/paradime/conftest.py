from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "paradime_tricky.json"


@pytest.fixture
def fx():
    from pipelines.paradime.simulator import load_fixture

    return load_fixture(FIXTURE)


@pytest.fixture
def sim(fx):
    from pipelines.paradime.simulator import ParadimeSimulator

    with ParadimeSimulator(
        fx["workspaces"], api_key=fx["api_key"], api_secret=fx["api_secret"],
        bearer_token=fx["bearer_token"], port=0,
    ) as s:
        yield s


@pytest.fixture
def configs(sim, fx):
    from pipelines.paradime.source import ParadimeWorkspaceConfig

    return [
        ParadimeWorkspaceConfig(name=w.name, endpoint=sim.endpoint_for(w.name),
                                api_key=fx["api_key"], api_secret=fx["api_secret"])
        for w in fx["workspaces"]
    ]


@pytest.fixture
def make_pipeline(tmp_path):
    import dlt

    def make():
        return dlt.pipeline(
            pipeline_name=f"paradime_{uuid.uuid4().hex[:8]}",
            destination=dlt.destinations.duckdb(str(tmp_path / "w.duckdb")),
            dataset_name="paradime_raw",
            pipelines_dir=str(tmp_path / "p"),
        )

    return make
