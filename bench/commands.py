"""Scenario 11: a `whsync sync` command as a process, in CPU seconds: what keeping dbt's compiled templates on disk
(pipelines/dbt_templates.py) and leaving the collector off until the process exits (collector.off_until_exit)
save each command.

One warehouse, synced once, then resynced N times each way by a new `whsync sync --activity off` process: as
shipped, without the template store (each process compiles its templates), with the collector back on after
the sync (its garbage walked before the exit), and with neither, in turn, so that a machine that speeds up
or slows down during the run weighs on each alike. CPU is the child process's (user + system, imports and
exit included); the simulator runs in this process, with no rate limit and no latency.
"""
from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from .scenarios import Report, Sizes, generate, table

# the child: `whsync` as its console script runs it, with the named saving turned off first
_CHILD = """
import sys
from pipelines import collector, dbt_templates
off = sys.argv.pop(1).split(",")
if "store" in off:
    dbt_templates.CompiledTemplates.read = lambda self, directory: None
    dbt_templates.CompiledTemplates.write = lambda self, directory: None
if "collector" in off:
    collector.off_until_exit = lambda: None
from pipelines.cli import app
sys.argv[0] = "whsync"
app()
"""
MODES = {"as shipped": "", "no template store": "store", "collector on after the sync": "collector",
         "neither": "store,collector"}


def scenario_commands(report: Report, sizes: Sizes, runs: int, work: Path, warm_up: bool = True) -> dict[str, Any]:
    from pipelines.benchling.simulator import DEMO_API_KEY, BenchlingSimulator

    report.emit(f"\n## a whsync sync command as a process: {sizes.label()}; {runs} resyncs each as shipped, "
                "without the template store, with the collector on after the sync and with neither, in turn"
                f"{'' if warm_up else ' (no warm-up: the first is a first sync)'}")
    db = work / "commands.duckdb"
    cpu: dict[str, list[float]] = {mode: [] for mode in MODES}
    env = {**os.environ, "BENCHLING_API_KEY": DEMO_API_KEY, "WHSYNC_CACHE_DIR": str(work / "cache")}
    with BenchlingSimulator(generate(sizes), api_key=DEMO_API_KEY, rate_limit="off") as sim:
        def one(mode: str) -> float:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            p = subprocess.run([sys.executable, "-c", _CHILD, MODES[mode], "sync", "--base-url", sim.base_url,
                                "--duckdb", str(db), "--activity", "off", "--quiet"],
                               env=env, capture_output=True, text=True)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if p.returncode != 0:
                raise RuntimeError(f"whsync sync ({mode}) failed: {(p.stderr or p.stdout).strip()[-500:]}")
            return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

        if warm_up:  # without (`--smoke`), the first mode's first run is the first sync: every mode runs, no saving shows
            one("as shipped")  # the first sync: the full load, dbt's first parse, the store written
        for i in range(runs):
            modes = list(cpu)
            for mode in modes[i % len(modes):] + modes[:i % len(modes)]:
                cpu[mode].append(one(mode))
    out = {mode: {"cpu_s": statistics.mean(c), "cpu_min_s": min(c), "runs": len(c)} for mode, c in cpu.items()}
    report.emit(table(f"CPU per `whsync sync` process (imports and exit included; {os.cpu_count()} cores)",
                      ["mode", "runs", "CPU s (mean)", "CPU s (min)", "CPU s (max)"],
                      [[mode, len(c), statistics.mean(c), min(c), max(c)] for mode, c in cpu.items()]))
    shipped = out["as shipped"]["cpu_s"]
    saved = {mode: out[mode]["cpu_s"] - shipped for mode in MODES if mode != "as shipped"}
    report.emit("\n" + "; ".join(f"{mode}: {s:+.2f} s per command ({s / out[mode]['cpu_s']:.0%} of it)"
                                 for mode, s in saved.items()))
    report.data["commands"] = out
    return out
