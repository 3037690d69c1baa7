"""Scenario 5: how honest is the time left? A first throttled sync writes the run log; a second one,
against a fresh simulator (fresh window) serving the same tenant, is watched: every 0.2 s the
progress display's own estimate (`Progress.eta()`) is sampled. After it finished, the estimate at
10%, 50% and 90% of its actual duration is compared with the time it actually had left.

The syncs run in this process (the estimate is read from the live progress object); the simulator
runs in its own process, as in the other scenarios.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from .scenarios import API_KEY, Report, SimProcess, Sizes, generate, table

POINTS = (0.1, 0.5, 0.9)


def _watched_sync(base_url: str, db: Path, build: bool) -> tuple[float, list[tuple[float, float | None, Any]], Any]:
    from pipelines.progress import Progress
    from pipelines.sync import BenchlingConfig, sync

    progress = Progress(quiet=True)
    samples: list[tuple[float, float | None, Any]] = []
    stop = threading.Event()
    t0 = time.monotonic()

    def watch() -> None:
        while not stop.wait(0.2):
            counts, left = progress.eta()
            samples.append((time.monotonic() - t0, left, counts))

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        res = sync(benchling=BenchlingConfig(base_url, api_key=API_KEY), warehouse=db, build=build, progress=progress)
    finally:
        stop.set()
        watcher.join()
    return time.monotonic() - t0, samples, res


def scenario_eta(report: Report, name: str, sizes: Sizes, rate_limit: str, latency_ms: float, work: Path,
                 build: bool = True) -> dict[str, Any]:
    tenant = generate(sizes)
    db = work / f"{name}-eta.duckdb"
    report.emit(f"\n## {name}: time-left estimate of a second sync; {sizes.label()}; limit {rate_limit}, "
                f"latency {latency_ms:g} ms")
    with SimProcess(sizes, rate_limit, latency_ms) as sim:
        first, _, _ = _watched_sync(sim.base_url, db, build)
    with SimProcess(sizes, rate_limit, latency_ms) as sim:
        total, samples, res = _watched_sync(sim.base_url, db, build)
        served = sim.stats()["total"]
    rows, out = [], {"first_sync_s": first, "second_sync_s": total, "requests": served, "points": {}}
    for p in POINTS:
        at = p * total
        t, left, counts = min(samples, key=lambda s: abs(s[0] - at)) if samples else (at, None, None)
        actual = total - t
        err = None if left is None else left - actual
        rows.append([f"{p:.0%}", t, f"{counts[0]}/{counts[1]}" if counts else "–", left, actual, err,
                     None if err is None or actual <= 0 else 100.0 * err / actual])
        out["points"][p] = {"at_s": t, "predicted_left_s": left, "actual_left_s": actual, "error_s": err}
    report.emit(table(
        f"{name}: time left predicted vs actual (second sync {total:.1f} s, first {first:.1f} s, "
        f"{served:,} requests, {len(tenant.folders):,} folders)",
        ["at", "elapsed s", "requests done/expected", "predicted left s", "actual left s", "error s", "error %"],
        rows))
    report.emit("\nThe estimate: the previous sync's requests per resource from the run log, the rate limit learned "
                "from the response headers, then the previous sync's load and dbt build times (pipelines/eta.py). "
                "Error = predicted - actual; positive means it said more time than was left.")
    report.data[f"{name}-eta"] = out
    return out
