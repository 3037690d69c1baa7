"""Shared test setup: nothing phones home, and each test gets its own warehouse file."""
from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
from pipelines.project import CACHE_DIR_ENV
from tests import forkserver
from tests.helpers import child_env

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
# whsync's cache (dbt's work directory of every warehouse, the parse seeds, the compiled templates) in a
# directory of this test session, made by the first pytest process (xdist's controller, whose workers inherit
# it) and removed when it ends: a run of the suite leaves nothing in the per-user cache (each test's warehouse
# has a dbt work directory, ~2.5 MB; ~200 MB per run), and no test depends on what an earlier run left there.
# Children keep it (tests/helpers.py `child_env`). A WHSYNC_CACHE_DIR set by the caller is used as it is.
if CACHE_DIR_ENV not in os.environ:
    os.environ[CACHE_DIR_ENV] = tempfile.mkdtemp(prefix="whsync-tests-cache-")
    atexit.register(shutil.rmtree, os.environ[CACHE_DIR_ENV], True)


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


@pytest.fixture
def short_backoff(monkeypatch):
    """The retry policy's waits between tries at 10 ms instead of its exponential backoff (0.5 s up to 15 s),
    for tests that prove which answers are retried and what is kept, not how long a backoff lasts
    (tests/test_http.py does); the tries and their bounds are unchanged. A 429 still waits out its
    `x-rate-limit-reset` in the rate budget, as it does in production. (A whsync child process: tests/test_cli.py.)"""
    monkeypatch.setattr("pipelines.http.RetryPolicy.delay", lambda self, tries, retry_after=None: 0.01)


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory) -> Path:
    """The warehouse `whsync demo` writes (run once per test session and xdist worker, as a user
    runs it: the CLI in a subprocess). Tests only read it (or copy it)."""
    cwd = tmp_path_factory.mktemp("demo")
    env = child_env("BENCHLING_", "WHSYNC_", "PARADIME_", "BENCHER_")
    p = forkserver.run([str(Path(sys.executable).with_name("whsync")), "demo", "--quiet"], cwd=cwd, env=env,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    (cwd / "demo.stdout").write_text(p.stdout)  # what it printed (the report's path)
    return cwd / "warehouse.duckdb"


# -- `make test-fast`: the inner loop ------------------------------------------------------------------
# `-m "not slow"` leaves out what needs a PostgreSQL server, Chromium or the session's `whsync demo`, and
# the long end-to-end scenarios measured with `--durations` (kills at every stage, fault matrices,
# multi-sync histories, docs generation). Everything still runs in `make test`, as CI runs it.
SLOW_FIXTURES = {"pg_server", "pg", "browser", "demo_warehouse", "demo"}
SLOW_PATHS = (
    "tests/postgres/",
    "tests/packaging/",  # builds and installs the wheel
    "tests/okta/test_bench_okta.py",
    "tests/report/test_report_history.py",
    "tests/test_resilience.py",
    "tests/benchling/test_fault_matrix.py",
    "tests/test_bench_smoke.py",
    "tests/test_dagster_example.py",
    "tests/runlog/test_runlog.py",
    "tests/warehouse/test_docs.py",
    "tests/warehouse/test_schema_names.py",
    "tests/warehouse/test_activity_e2e.py::test_budget_is_spent_exactly_and_stalest_first_across_three_syncs",
    "tests/warehouse/test_activity_e2e.py::test_suspended_user_is_checked_once_after_suspension_then_left_alone",
    "tests/warehouse/test_activity_e2e.py::test_404_is_skipped_and_counted_and_403_warns_once",
    "tests/warehouse/test_benchling_e2e.py::test_resync_is_stable_and_changes_show_exactly",
    "tests/warehouse/test_benchling_e2e.py::test_users_and_apps_are_incremental",
    "tests/warehouse/test_benchling_e2e.py::test_generated_tenant_lands_row_for_row",
    "tests/warehouse/test_paradime_bencher_e2e.py::test_changes_through_the_apis_show_exactly_in_the_warehouse",
    "tests/warehouse/test_paradime_bencher_e2e.py::test_listed_marks_follow_the_latest_listing_of_their_scope",
    "tests/test_cli.py::test_malformed_json_fails_after_bounded_retries",
    "tests/test_cli_sources.py::test_sync_one_source_prints_its_tables",
    "tests/test_cli_sources.py::test_sync_all_sources",  # the tricky Benchling e2e stays in the inner loop
    "tests/warehouse/test_activity_e2e.py",
    "tests/report/test_last_synced.py",
    "tests/warehouse/test_paradime_bencher_missing_raw.py",
    "tests/test_source_registry.py::test_the_fifth_source_syncs_next_to_benchling",
    "tests/okta/test_cli_okta.py::test_simulate_okta_prints_its_org_url_and_serves_a_sync",
    "tests/test_cli.py::test_closed_port_says_unreachable",
    # remediation end to end (each syncs a world of three simulators); its unit and simulator tests stay
    "tests/remediate/test_apply_failures.py",
    "tests/remediate/test_offboard_e2e.py",
    "tests/remediate/test_review_e2e.py",
)


def _is_slow(item: pytest.Item) -> bool:
    return (item.get_closest_marker("slow") is not None or bool(SLOW_FIXTURES & set(item.fixturenames))
            or item.nodeid.split("[")[0].startswith(SLOW_PATHS))


def pytest_configure(config):  # noqa: ANN001 - pytest hook
    config.addinivalue_line("markers", "slow: left out of `make test-fast` (see tests/conftest.py)")
    config.pluginmanager.register(_XdistGroups(), "whsync-xdist-groups")


class _XdistGroups:
    """`--dist loadgroup` sends the tests of one `xdist_group` to one worker by the `@group` suffix that
    pytest-xdist (3.8) appends to each test's id on the workers, through `item._nodeid`. pytest 9.2 keeps
    the id in `item._id`, so the suffix was silently lost and every group was split across workers (the
    run-log modules synced their module warehouse on each worker). This appends it where pytest reads it,
    when xdist's own did not take."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config, items):  # noqa: ANN001 - pytest hook
        if not getattr(config.option, "loadgroup", False):
            return
        for item in items:
            groups = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                             for m in item.iter_markers("xdist_group")})
            if not groups or "@" in item.nodeid:
                continue
            nodeid = f"{item.nodeid}@{'_'.join(groups)}"
            if hasattr(item, "_id"):
                from _pytest.nodeid import NodeId

                item._id = NodeId.parse(nodeid)
            else:
                item._nodeid = nodeid


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the xdist_group marks (--dist loadgroup)
def pytest_collection_modifyitems(config, items):  # noqa: ANN001 - pytest hook
    """Mark the slow tests, and hand them out first: under xdist the long scenarios start on both workers
    while the many short tests fill the gaps, instead of one long test ending the run on one worker
    (the order within each kind stays the collection order, so a module's tests stay together).
    The tests that read the session's `whsync demo` run on one worker, so it runs once."""
    slow = {id(item) for item in items if _is_slow(item)}
    for item in items:
        if id(item) in slow:
            item.add_marker(pytest.mark.slow)
        if item.get_closest_marker("xdist_group") is None:
            if "demo_warehouse" in item.fixturenames:
                item.add_marker(pytest.mark.xdist_group("demo"))
            elif _uses_module_fixture(item):  # its module's tests on one worker: the fixture is made once
                item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
    items.sort(key=lambda item: id(item) not in slow)


def _uses_module_fixture(item: pytest.Item) -> bool:
    """Whether the test uses a module- or class-scoped fixture (a shared warehouse, a simulator, a server):
    under `--dist loadgroup` the tests of its module would otherwise be spread over the workers and each
    worker would make the fixture again (a module's synced warehouse, synced twice)."""
    info = getattr(item, "_fixtureinfo", None)
    defs = info.name2fixturedefs.values() if info is not None else ()
    return any(d[-1].scope in ("module", "class", "package") for d in defs if d)
