from __future__ import annotations

import os

import pytest

from tests.helpers import pipeline_factory, tricky_fixture

os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"


@pytest.fixture
def fx():
    return tricky_fixture("paradime")


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
    return pipeline_factory(tmp_path, "paradime")
