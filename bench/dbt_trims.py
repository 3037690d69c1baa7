"""Scenario 10: what the dbt trims (pipelines/dbt_trims.py), the dlt trims (pipelines/dlt_trims.py), the
collector's pause (pipelines/collector.py) and the DuckDB build held open (DuckDBBuild.held_open) save, in CPU
seconds per resync.

One warehouse, synced once, then resynced N times each way: with everything, without the dbt trims (dbt as
it is), without the dlt trims (dlt as it is), with the collector on during the sync, and with the build file
opened by each connection, in turn, so that a machine that speeds up or slows down during the run weighs on
each alike. With `warm_up=False` (`--smoke`) the first sync is the first mode's first resync, so that mode's
number is a first sync's: a smoke run shows that every mode runs, not what it saves. Each resync is a whole
`sync()` (extract, dbt build, publish) of the same unchanged tenant in this process, against an in-process
simulator with no rate limit and no latency; CPU is this process's (`time.process_time`), the build's wall
time is the sync's own `build_seconds`.
"""
from __future__ import annotations

import contextlib
import statistics
import time
from pathlib import Path
from typing import Any, Iterator
from unittest import mock

from .scenarios import Report, Sizes, generate, table


def _untrimmed(*args: Any, **kwargs: Any) -> contextlib.AbstractContextManager:
    """`dbt_trims.trimmed` as if there were no trims: takes what `run_dbt` passes it, changes nothing."""
    return contextlib.nullcontext()


@contextlib.contextmanager
def _node_timings(into: dict[str, list[float]]) -> Iterator[None]:
    """dbt's own timing of each node (its compile and execute steps, from the NodeFinished event) while the block
    runs, summed by kind (`model:view`, `model:table`, `model:incremental`, `test:test`): [compile s, execute s,
    nodes]."""
    from dbt.cli.main import dbtRunner

    init = dbtRunner.__init__

    def callback(event: Any) -> None:
        if event.info.name == "NodeFinished":
            node = event.data.node_info
            kind = f"{node.unique_id.split('.', 1)[0]}:{node.materialized or '-'}"
            acc = into.setdefault(kind, [0.0, 0.0, 0])
            for step in event.data.run_result.timing_info:
                spent = (step.completed_at.ToDatetime() - step.started_at.ToDatetime()).total_seconds()
                acc[0 if step.name == "compile" else 1] += spent
            acc[2] += 1

    def with_timings(self: Any, manifest: Any = None, callbacks: Any = None) -> None:
        init(self, manifest, [*(callbacks or []), callback])

    with mock.patch.object(dbtRunner, "__init__", with_timings):
        yield


@contextlib.contextmanager
def _dlt_untrimmed() -> Iterator[None]:
    """dlt as it is for the block: the dlt trims uninstalled, and installed again after it."""
    from pipelines import dlt_trims

    dlt_trims.uninstall()
    try:
        with mock.patch.object(dlt_trims, "install", lambda: None):  # the sync would install them again
            yield
    finally:
        dlt_trims.install()


def scenario_dbt_trims(report: Report, sizes: Sizes, resyncs: int, work: Path, warm_up: bool = True) -> dict[str, Any]:
    from pipelines import dbt as whsync_dbt
    from pipelines import sync as whsync_sync
    from pipelines.benchling.simulator import DEMO_API_KEY, BenchlingSimulator
    from pipelines.benchling.spec import BenchlingConfig, benchling_plan
    from pipelines.progress import Progress
    from pipelines.sync import sync
    from pipelines.targets import resolve_target
    from pipelines.targets.duckdb import DuckDBBuild

    report.emit(f"\n## dbt and dlt trims, collector paused, build held open: {sizes.label()}; {resyncs} resyncs "
                f"each with everything, without dbt's trims, without dlt's, with the collector on and with the build "
                f"file opened by each connection, in turn{'' if warm_up else ' (no warm-up: the first is a first sync)'}")
    db = work / "dbt_trims.duckdb"
    # what each mode turns off, for its resyncs only
    off = {"dbt as it is": lambda: mock.patch.object(whsync_dbt.dbt_trims, "trimmed", _untrimmed),
           "dlt as it is": _dlt_untrimmed,
           "collector on": lambda: mock.patch.object(whsync_sync.collector, "paused", contextlib.nullcontext),
           "file reopened": lambda: mock.patch.object(DuckDBBuild, "held_open", lambda self: contextlib.nullcontext())}
    cpu: dict[str, list[float]] = {"with the trims": [], "dbt as it is": [], "dlt as it is": [], "collector on": [],
                                   "file reopened": []}
    build: dict[str, list[float]] = {k: [] for k in cpu}
    nodes: dict[str, tuple[int, int]] = {}
    timings: dict[str, list[float]] = {}  # by node kind, over the resyncs with everything
    with BenchlingSimulator(generate(sizes), api_key=DEMO_API_KEY, rate_limit="off") as sim:
        plan = benchling_plan(BenchlingConfig(sim.base_url, api_key=DEMO_API_KEY))

        def one(mode: str | None) -> None:
            with (off[mode]() if mode in off else
                  _node_timings(timings) if mode == "with the trims" else contextlib.nullcontext()):
                start = time.process_time()
                res = sync(plans=[plan], target=resolve_target(duckdb=db), progress=Progress(quiet=True))
                spent = time.process_time() - start
            if mode is not None:
                cpu[mode].append(spent)
                build[mode].append(res.build_seconds or 0.0)
                nodes[mode] = (res.dbt.models, res.dbt.tests)

        if warm_up:
            one(None)  # the first sync: imports, the full load, dbt's first parse
        for i in range(resyncs):
            modes = list(cpu)
            for mode in modes[i % len(modes):] + modes[:i % len(modes)]:
                one(mode)
    rows, out = [], {}
    for mode in cpu:
        c, b = cpu[mode], build[mode]
        out[mode] = {"cpu_s": statistics.mean(c), "cpu_min_s": min(c), "build_s": statistics.mean(b), "runs": len(c)}
        rows.append([mode, len(c), f"{nodes[mode][0]} / {nodes[mode][1]}", statistics.mean(c), min(c), max(c),
                     statistics.mean(b)])
    off, on = out["dbt as it is"]["cpu_s"], out["with the trims"]["cpu_s"]
    report.emit(table("CPU per resync (whole sync, this process)",
                      ["trims", "resyncs", "models / tests", "CPU s (mean)", "CPU s (min)", "CPU s (max)", "build wall s (mean)"],
                      rows))
    dlt_off, gc_on, reopened = out["dlt as it is"]["cpu_s"], out["collector on"]["cpu_s"], out["file reopened"]["cpu_s"]
    report.emit(f"\nthe dbt trims save {off - on:.2f} s of CPU per resync ({(off - on) / off:.0%} of it); "
                f"the dlt trims {dlt_off - on:.2f} s ({(dlt_off - on) / dlt_off:.0%}); "
                f"the collector's pause {gc_on - on:.2f} s ({(gc_on - on) / gc_on:.0%}); "
                f"the build held open {reopened - on:.2f} s ({(reopened - on) / reopened:.0%})")
    runs = out["with the trims"]["runs"]
    report.emit(table("time per dbt node, with everything (dbt's own timing of its compile and execute steps)",
                      ["node kind", "nodes per resync", "compile ms (mean)", "execute ms (mean)"],
                      [[kind, n // runs, 1000 * c / n, 1000 * e / n] for kind, (c, e, n) in sorted(timings.items())]))
    out["node_timings"] = {kind: {"nodes": n // runs, "compile_ms": 1000 * c / n, "execute_ms": 1000 * e / n}
                           for kind, (c, e, n) in timings.items()}
    report.data["dbt_trims"] = out
    return out
