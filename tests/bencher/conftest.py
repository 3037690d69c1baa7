from __future__ import annotations

import os

import pytest

from tests.helpers import pipeline_factory, tricky_fixture

os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"


@pytest.fixture
def fx():
    return tricky_fixture("bencher")


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
    return pipeline_factory(tmp_path, "bencher")
