"""Scenario 6: how honest is the time left? A first throttled sync writes the run log; a second one,
against a fresh simulator (fresh window) serving the same tenant, is watched: every 0.2 s the
progress display's own estimate (`Progress.eta()`) is sampled. After it finished, the estimate at
10%, 50% and 90% of its actual duration is compared with the time it actually had left.

Each sync runs in its own process, as cron runs it (the estimate is read from the live progress
object there); the simulator runs in its own process, as in the other scenarios. A third sync shows
the steady state: the second one's baseline is a first sync whose dbt build parsed the project from
scratch, which later builds do not.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from .scenarios import API_KEY, REPO, Report, SimProcess, Sizes, generate, table

POINTS = (0.1, 0.5, 0.9)


def _watched_sync(base_url: str, db: Path, build: bool) -> dict[str, Any]:
    """One sync with the progress display's estimate sampled every 0.2 s (runs in the child)."""
    from pipelines.progress import Progress
    from pipelines.benchling.spec import benchling_plan, BenchlingConfig
    from pipelines.targets import resolve_target
    from pipelines.sync import sync

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
        res = sync(plans=[benchling_plan(BenchlingConfig(base_url, api_key=API_KEY))], target=resolve_target(duckdb=db), build=build, progress=progress)
    finally:
        stop.set()
        watcher.join()
    return {"seconds": time.monotonic() - t0, "samples": samples, "extract_s": res.extract_seconds,
            "build_s": res.build_seconds}


def _run_child(base_url: str, db: Path, build: bool) -> dict[str, Any]:
    """A sync in its own process, as cron runs it (imports and dbt's parse cache as in production)."""
    with tempfile.TemporaryDirectory(prefix="whsync-bench-eta-") as tmp:
        spec, out = Path(tmp) / "spec.json", Path(tmp) / "out.json"
        spec.write_text(json.dumps({"base_url": base_url, "db": str(db), "build": build, "out": str(out)}))
        proc = subprocess.run([sys.executable, "-m", "bench.eta", str(spec)], cwd=REPO, capture_output=True,
                              text=True, timeout=7200)
        if proc.returncode != 0 or not out.exists():
            raise RuntimeError(f"sync failed: {(proc.stderr or '').strip()[-500:]}")
        return json.loads(out.read_text())


def _points(run: dict[str, Any]) -> list[dict[str, Any]]:
    """The estimate at 10%, 50% and 90% of the sync's actual duration (the nearest sample)."""
    total, samples, out = run["seconds"], run["samples"], []
    for p in POINTS:
        t, left, counts = min(samples, key=lambda s: abs(s[0] - p * total)) if samples else (p * total, None, None)
        actual = total - t
        err = None if left is None else left - actual
        out.append({"at": p, "at_s": t, "counts": counts, "predicted_left_s": left, "actual_left_s": actual,
                    "error_s": err, "error_pct": None if err is None or actual <= 0 else 100.0 * err / actual})
    return out


def scenario_eta(report: Report, name: str, sizes: Sizes, rate_limit: str, latency_ms: float, work: Path,
                 build: bool = True) -> dict[str, Any]:
    tenant = generate(sizes)
    db = work / f"{name}-eta.duckdb"
    report.emit(f"\n## {name}: the time-left estimate; {sizes.label()}; limit {rate_limit}, latency {latency_ms:g} ms")
    runs: list[dict[str, Any]] = []
    for i in range(3):
        with SimProcess(sizes, rate_limit, latency_ms) as sim:
            run = _run_child(sim.base_url, db, build)
            run["requests"] = sim.stats()["total"]
        runs.append(run)
        print(f"  ... eta sync {i + 1}: {run['seconds']:.1f} s (extract {run['extract_s']:.1f} s, build "
              f"{run['build_s']:.1f} s), {run['requests']:,} requests", file=sys.stderr, flush=True)
    rows, out = [], {"syncs": [{k: r[k] for k in ("seconds", "extract_s", "build_s", "requests")} for r in runs]}
    for label, run in (("2nd", runs[1]), ("3rd", runs[2])):
        pts = _points(run)
        out[label] = pts
        for pt in pts:
            c = pt["counts"]
            rows.append([label, f"{pt['at']:.0%}", pt["at_s"], f"{c[0]}/{c[1]}" if c else "–", pt["predicted_left_s"],
                         pt["actual_left_s"], pt["error_s"], pt["error_pct"]])
    report.emit(table(
        f"{name}: time left predicted vs actual, on {os.cpu_count()} cores (syncs took "
        + ", ".join(f"{r['seconds']:.1f} s" for r in runs) + f"; {runs[1]['requests']:,} requests each after the first)",
        ["sync", "at", "elapsed s", "requests done/expected", "predicted left s", "actual left s", "error s",
         "error %"], rows))
    report.emit("\nThe estimate (pipelines/eta.py): the previous sync's requests per resource from the run log, the "
                "rate limit learned from the response headers, then the previous sync's load and dbt build times. "
                "Error = predicted - actual (positive: it said more time than was left). The 2nd sync's baseline is "
                "the 1st, whose dbt build also parsed the project from scratch; the 3rd shows the steady state.")
    report.data[f"{name}-eta"] = out
    return out


if __name__ == "__main__":
    spec = json.loads(Path(sys.argv[1]).read_text())
    result = _watched_sync(spec["base_url"], Path(spec["db"]), spec["build"])
    Path(spec["out"]).write_text(json.dumps(result))
