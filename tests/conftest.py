"""Shared test setup: nothing phones home, and each test gets its own warehouse file."""
from __future__ import annotations

import os

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
