"""Python's cyclic garbage collector, paused while a sync or a build runs (`sync` and `build_only` in
pipelines/sync.py).

A Benchling sync allocates a few million objects that the collector tracks: dbt alone builds ~270 contexts
of ~530 macro callables each, and dlt resolves its configuration ~20 times per pipeline run. With the
collector on, it walks them again and again (every 700 allocations, and the whole heap now and then, the
imported dbt, dlt and duckdb included): about a tenth of a sync's CPU.
Measured by `python -m bench --scenarios 10` (bench/dbt_trims.py, "collector on").

What the pause costs is memory, and only for the sync's length: its cyclic garbage (~300,000 objects, ~40 MB
for a Benchling sync) waits until the sync ends; most of it, dbt's node contexts, is freed by reference
counts when the build ends, where the collector runs again (pipelines/dbt_trims.py, `collects_later`).
That amount follows the project's dbt nodes, not the synced rows (measured: the same for 80 and 5,000 users). Objects freed by their reference count (rows,
pages, nearly everything) are freed at once as always. When the pause ends, the next allocation starts a
collection of what the sync allocated (all of it still in the youngest generation), so its garbage, and
whatever resource a piece of it held, is gone right after the sync and not at some later time.

The pause is the process's (the collector has no per-thread switch): syncs of two targets running at once
in threads of one process share it, the last to end turns the collector back on, and a collector that was
off before (the caller's choice) stays off.

A `whsync sync`, `build` or `demo` process ends after its syncs, so those commands turn the collector off for
the rest of the process (`off_until_exit`): the sync's garbage is freed with the process instead of being
walked first (~0.3 s of CPU per build, about a tenth of a command's). A process that goes on after its syncs
(Dagster, the tests' in-process syncs) keeps the pause above.
"""
from __future__ import annotations

import contextlib
import gc
import threading
from typing import Iterator

_lock = threading.Lock()
_inside = 0  # syncs and builds inside `paused()` now
_was_enabled = False  # whether the collector was on when the first of them entered


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """The collector off from the first sync or build that enters to the last that leaves."""
    global _inside, _was_enabled
    with _lock:
        if _inside == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _inside += 1
    try:
        yield
    finally:
        with _lock:
            _inside -= 1
            if _inside == 0 and _was_enabled:
                gc.enable()


def off_until_exit() -> None:
    """The collector off for the rest of this process: for a command that exits once its syncs are done (the
    `whsync` commands that sync or build). `paused()` then finds it off and leaves it off. The garbage it
    keeps is the syncs' cyclic garbage (~40 MB per build, whatever the number of rows; `whsync demo` builds
    twice), freed when the process exits; everything freed by reference counting is freed at once as always."""
    gc.disable()


def collects_later() -> bool:
    """Whether the collector runs again in this process: it is on, or paused by `paused()` and turned back on
    when the last sync leaves. False after `off_until_exit` (or when the caller turned it off)."""
    with _lock:
        return gc.isenabled() or (_inside > 0 and _was_enabled)
