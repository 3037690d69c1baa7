"""Every numeric option of whsync is bounded: a value outside its range is one line naming it and the
range, exit 2, before any work (issue 25: `report --inactive-days 1000000` ended in an OverflowError)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from tests import forkserver
from tests.helpers import child_env

WHSYNC = str(Path(sys.executable).with_name("whsync"))


@pytest.mark.parametrize("args, message", [
    (["sync", "--activity-budget", "5000000"], "--activity-budget 5000000: give a number of requests from 0 to 1000000"),
    (["sync", "--wait", "-1"], "--wait -1: give seconds from 0 to 604800"),
    (["sync", "--wait", "1e12"], "--wait 1000000000000: give seconds from 0 to 604800"),
    (["sync", "--wait", "nan"], "--wait nan: give seconds from 0 to 604800"),
    (["build", "--wait", "inf"], "--wait inf: give seconds from 0 to 604800"),
    (["status", "--max-age", "99999999999d"], "--max-age '99999999999d': give a duration up to 3650d"),
])
def test_numeric_options_out_of_range_are_one_line_and_exit_2(tmp_path, args, message):
    env = child_env("BENCHLING_", "WHSYNC_", "PG")
    env["BENCHLING_API_KEY"] = "sk_test"  # so that a sync gets as far as its options
    p = forkserver.run([WHSYNC, *args, "--duckdb", str(tmp_path / "w.duckdb")], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2, (p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0] == f"whsync: error: {message}", p.stderr
    assert not (tmp_path / "w.duckdb").exists()
