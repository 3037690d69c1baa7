from __future__ import annotations

from typing import Iterator

import pytest

from .world import World


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[World]:
    w = World(tmp_path_factory.mktemp("remediate"))
    try:
        w.sync()
        w.snapshot()
        yield w
    finally:
        w.stop()
