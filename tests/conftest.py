"""Shared test setup: nothing phones home, and each test gets its own warehouse file."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")


_REPORTS: list[str] = []


def pytest_runtest_logreport(report):  # noqa: ANN001 - pytest hook
    """Collect `record_property("report", line)` lines (they travel back from xdist workers)."""
    if report.when == "call":
        _REPORTS.extend(v for k, v in report.user_properties if k == "report")


def pytest_terminal_summary(terminalreporter):  # noqa: ANN001 - pytest hook
    if _REPORTS:
        terminalreporter.section("measured")
        for line in sorted(_REPORTS):
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory) -> Path:
    """The warehouse `whsync demo` writes (run once per test session and xdist worker, as a user
    runs it: the CLI in a subprocess). Tests only read it (or copy it)."""
    cwd = tmp_path_factory.mktemp("demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BENCHLING_", "WHSYNC_", "PARADIME_", "BENCHER_"))}
    p = subprocess.run([str(Path(sys.executable).with_name("whsync")), "demo", "--quiet"], cwd=cwd, env=env,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    (cwd / "demo.stdout").write_text(p.stdout)  # what it printed (the report's path)
    return cwd / "warehouse.duckdb"
