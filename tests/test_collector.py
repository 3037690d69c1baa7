"""The collector's pause (pipelines/collector.py): off while a sync or build runs, back on when the last one
ends (unless the caller had it off), and a sync's cyclic garbage gone right after it without anyone
asking for a collection."""
from __future__ import annotations

import gc
import threading
import weakref
from pathlib import Path

import pytest

from pipelines import collector
from pipelines.benchling.simulator import DEMO_API_KEY, BenchlingSimulator, Tenant
from pipelines.benchling.spec import BenchlingConfig, benchling_plan
from pipelines.progress import Progress
from pipelines.sync import build_only, sync
from pipelines.targets import resolve_target

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    (gc.enable if was else gc.disable)()


def test_paused_until_the_last_leaves_and_a_collector_turned_off_stays_off(collector_on):
    with collector.paused():
        assert not gc.isenabled()
    assert gc.isenabled()

    # two syncs in threads: the first to leave does not turn the collector back on under the other
    first_in, first_out, second_in = threading.Event(), threading.Event(), threading.Event()
    seen = []

    def first():
        with collector.paused():
            first_in.set()
            second_in.wait(10)
        first_out.set()

    def second():
        first_in.wait(10)
        with collector.paused():
            second_in.set()
            first_out.wait(10)
            seen.append(gc.isenabled())
        seen.append(gc.isenabled())

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert seen == [False, True]

    assert collector.collects_later()
    with collector.paused():
        assert collector.collects_later()  # turned back on after the pause
    gc.disable()  # the caller's choice
    with collector.paused():
        assert not collector.collects_later()
    assert not gc.isenabled() and not collector.collects_later()
    gc.enable()
    with pytest.raises(RuntimeError), collector.paused():
        raise RuntimeError("a failing sync")
    assert gc.isenabled()


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_a_sync_runs_with_the_collector_paused_and_its_garbage_goes_right_after(collector_on, tmp_path):
    seen, cycles = [], []

    def hook(request):  # noqa: ANN001 - in the simulator's thread, in this process, while the sync runs
        seen.append(gc.isenabled())
        garbage = _Cycle()  # cyclic garbage made during the sync: only the collector frees it
        cycles.append(weakref.ref(garbage))
        return None

    target = resolve_target(duckdb=tmp_path / "w.duckdb")
    with BenchlingSimulator(Tenant.load(FIXTURES / "benchling_tricky.json"), api_key=DEMO_API_KEY, rate_limit="off",
                            request_hook=hook) as sim:
        result = sync(plans=[benchling_plan(BenchlingConfig(sim.base_url, api_key=DEMO_API_KEY))], target=target,
                      progress=Progress(quiet=True))
    assert result.counts["user"] > 0
    assert seen and not any(seen), "the collector ran during the sync"
    assert gc.isenabled()
    assert cycles and all(ref() is None for ref in cycles), "the sync's cyclic garbage outlived it"

    # `whsync build` pauses it alike and turns it back on after a failure too
    states = []
    real = collector.gc.isenabled

    def watch_build(*a, **kw):  # noqa: ANN002, ANN003
        states.append(real())
        raise RuntimeError("dbt failed")

    import pipelines.sync as whsync_sync

    build_models = whsync_sync.build_models
    whsync_sync.build_models = watch_build
    try:
        with pytest.raises(RuntimeError, match="dbt failed"):
            build_only(target=target, progress=Progress(quiet=True))
    finally:
        whsync_sync.build_models = build_models
    assert states == [False] and gc.isenabled()


def test_a_builds_contexts_are_freed_by_their_reference_counts(collector_on, tmp_path):
    """The ~270 contexts of a sync's dbt build and the macro callables each holds (a reference cycle per
    context) are freed when the build ends, not left to the collector (pipelines/dbt_trims.py)."""
    from dbt.clients.jinja import MacroGenerator

    thresholds = gc.get_threshold()
    gc.set_threshold(0)  # on, but collecting nothing by itself: what is freed here is freed by reference counts
    try:
        target = resolve_target(duckdb=tmp_path / "w.duckdb")
        with BenchlingSimulator(Tenant.load(FIXTURES / "benchling_tricky.json"), api_key=DEMO_API_KEY,
                                rate_limit="off") as sim:
            result = sync(plans=[benchling_plan(BenchlingConfig(sim.base_url, api_key=DEMO_API_KEY))], target=target,
                          progress=Progress(quiet=True))
        assert result.dbt.models > 0 and gc.isenabled()
        assert sum(isinstance(o, MacroGenerator) for o in gc.get_objects()) == 0
    finally:
        gc.set_threshold(*thresholds)


def test_the_sync_command_leaves_the_collector_off_until_its_process_exits(collector_on, tmp_path, monkeypatch):
    """`whsync sync` (`build`, `demo`) ends its process after the sync: the collector stays off, so the sync's
    garbage is not walked before the exit frees it (pipelines/collector.py, `off_until_exit`)."""
    from typer.testing import CliRunner

    from pipelines.cli import app

    cycles = []

    def hook(request):  # noqa: ANN001
        garbage = _Cycle()
        cycles.append(weakref.ref(garbage))
        return None

    with BenchlingSimulator(Tenant.load(FIXTURES / "benchling_tricky.json"), api_key=DEMO_API_KEY, rate_limit="off",
                            request_hook=hook) as sim:
        monkeypatch.setenv("BENCHLING_API_KEY", DEMO_API_KEY)
        got = CliRunner().invoke(app, ["sync", "--base-url", sim.base_url, "--duckdb", str(tmp_path / "w.duckdb"),
                                       "--no-build", "--activity", "off", "--quiet"])
    assert got.exit_code == 0, got.output
    assert "synced" in got.output
    assert not gc.isenabled(), "the collector came back on before the command's process ended"
    assert cycles and all(ref() is not None for ref in cycles)  # kept, not walked: the exit frees them
    gc.enable()
    gc.collect()
    assert all(ref() is None for ref in cycles)
