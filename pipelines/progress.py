"""Progress output for long work: a live table on a terminal, plain timestamped lines otherwise
(every `interval` seconds, also while the sync waits for the rate limit).

With a baseline (the previous published sync, from the run log) it shows requests done / expected
and the time left (`eta.py`). Rate-limit waiting is wall-clock time: eight threads waiting the same
ten seconds are ten seconds. Progress also keeps what each source did (pages per resource, its
client's counters, its timings): the run log is written from it.

Nothing here ever receives a secret: callers pass resource names and counts only.
"""
from __future__ import annotations

import sys
import threading
import time
from collections import defaultdict
from typing import IO, Any, Callable

from rich.console import Console
from rich.live import Live
from rich.table import Table

from .eta import Baseline, Live as EtaLive, format_seconds, remaining_requests, seconds_left


class Progress:
    """Counts pages and rows per resource; shows them live (TTY) or as periodic lines."""

    def __init__(self, stream: IO[str] | None = None, interval: float = 10.0, quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.quiet = quiet
        self.interval = interval
        self.pages: dict[str, int] = defaultdict(int)
        self.rows: dict[str, int] = defaultdict(int)
        self.planned: dict[str, int] = {}  # resource -> items planned (shown as done/planned)
        self.activity: Any = None  # the Benchling activity pass's counts, when it ran
        self.stage = ""
        self.stats_fn: Callable[[], dict[str, Any]] | None = None
        self.baseline: Baseline | None = None  # the previous sync, for the total and the time left
        self.sources: list[str] = []  # the sources of this sync, in order (for the time left)
        self.build = True
        # per source: pages per resource, the client's counters and timings (for the run log)
        self.source_pages: dict[str, dict[str, int]] = {}
        self.source_stats: dict[str, dict[str, Any]] = {}
        # per source: rows loaded per raw table, when its resources are requests rather than tables
        # (Paradime's one listUsers request fills two tables)
        self.source_loaded: dict[str, dict[str, int]] = {}
        self.source: str | None = None
        self.kind = ""
        self.finished: set[str] = set()
        self._lock = threading.Lock()
        self._last = time.monotonic()
        self._start = time.monotonic()
        self._stage_start = self._start
        self._last_page_at: float | None = None
        self._live: Live | None = None
        self._ticker: threading.Event | None = None
        self.console = Console(file=self.stream, highlight=False, soft_wrap=True)

    # -- counters -------------------------------------------------------------------------------

    def page(self, resource: str, pages: int, rows: int) -> None:
        with self._lock:
            self.pages[resource] += pages
            self.rows[resource] += rows
            if self.source is not None and pages:
                per = self.source_pages.setdefault(self.source, {})
                per[resource] = per.get(resource, 0) + pages
                self._last_page_at = time.monotonic()
        self._tick()

    def loaded(self, source: str, table: str, rows: int) -> None:
        """`rows` were loaded into `source`'s raw `table` (for the run log; not shown live)."""
        with self._lock:
            per = self.source_loaded.setdefault(source, {})
            per[table] = per.get(table, 0) + rows

    def plan(self, resource: str, total: int) -> None:
        """Announce how many items `resource` will fetch: shown as done/planned."""
        with self._lock:
            self.planned[resource] = total
            self.pages.setdefault(resource, 0)
            self.rows.setdefault(resource, 0)
        self._tick(force=True)

    def _count(self, r: str) -> str:
        return f"{self.rows[r]}/{self.planned[r]}" if r in self.planned else str(self.rows[r])

    def resource_done(self, resource: str) -> None:
        """The listing of `resource` ended: it needs no more requests, whatever it needed last time."""
        with self._lock:
            self.finished.add(resource)

    def set_stage(self, stage: str, kind: str | None = None, source: str | None = None) -> None:
        """Enter a stage. `kind` is extract, build or publish (default: from the text, "extracting
        from Benchling" is extract with source benchling)."""
        self._end_source()
        text = stage.lower()
        if kind is None:
            kind = "extract" if text.startswith("extract") else "build" if text.startswith("build") else \
                "publish" if text.startswith("publish") else "other"
        if kind == "extract" and source is None and " from " in text:
            source = text.rsplit(" from ", 1)[1].strip(" .…")
        with self._lock:
            if not (kind == "publish" and self.kind == "build"):  # the build's time includes publishing
                self._stage_start = time.monotonic()
            self.stage, self.kind = stage, kind
            self.source = source if kind == "extract" else None
            self._last_page_at = None
            self.finished = set()
            if self.source is not None:
                self.source_pages.setdefault(self.source, {})
        if not self.tty and not self.quiet:
            self.line(f"{stage}…")
        self._tick(force=True)

    def warn(self, text: str) -> None:
        """A warning line: printed even with --quiet."""
        quiet, self.quiet = self.quiet, False
        try:
            self.line(text)
        finally:
            self.quiet = quiet

    def _end_source(self) -> None:
        """Keep the finished source's counters and timings, for the run log."""
        if self.source is None:
            return
        now = time.monotonic()
        s = dict(self.stats_fn() if self.stats_fn else {})
        s["seconds"] = now - self._stage_start
        s["tail_seconds"] = now - self._last_page_at if self._last_page_at is not None else 0.0
        s["waited_seconds"] = s.pop("waited_wall_s", s.get("waited_wall_seconds", 0.0))
        self.source_stats[self.source] = s
        self.stats_fn = None
        self.source = None

    def finish(self) -> None:
        """The last stage ended (call before reading `source_stats` or the build time)."""
        self._end_source()

    def stage_seconds(self) -> float:
        return time.monotonic() - self._stage_start

    def line(self, text: str) -> None:
        if self.quiet:
            return
        elapsed = time.monotonic() - self._start
        if self._live is not None:
            self._live.console.print(f"[{elapsed:6.1f}s] {text}", markup=False)
        else:
            print(f"[{elapsed:6.1f}s] {text}", file=self.stream, flush=True)

    # -- the estimate -----------------------------------------------------------------------------

    def _eta_state(self) -> EtaLive:
        now = time.monotonic()
        with self._lock:
            pages = dict(self.source_pages.get(self.source or "", {}))
            finished = set(self.finished)
            last = self._last_page_at
        stats = self.stats_fn() if self.stats_fn and self.kind == "extract" else {}
        return EtaLive(stage=self.kind, source=self.source, sources=self.sources, pages=pages, finished=finished,
                       stage_elapsed=now - self._stage_start, since_last_page=now - last if last else 0.0,
                       budget=stats, build=self.build)

    def eta(self) -> tuple[tuple[int, int] | None, float | None]:
        """((requests done, expected) of the current source or None, seconds left or None)."""
        if self.baseline is None or self.kind not in ("extract", "build", "publish"):
            return None, None
        state = self._eta_state()
        counts = remaining_requests(self.baseline, state) if self.kind == "extract" else None
        return counts, seconds_left(self.baseline, state)

    # -- rendering ------------------------------------------------------------------------------

    def __enter__(self) -> "Progress":
        if self.tty and not self.quiet:
            self._live = Live(console=self.console, refresh_per_second=4, transient=False,
                              get_renderable=self._render)
            self._live.__enter__()
        elif not self.quiet:
            self._ticker = threading.Event()
            threading.Thread(target=self._every_interval, args=(self._ticker,), daemon=True,
                             name="whsync-progress").start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._ticker is not None:
            self._ticker.set()
            self._ticker = None
        if self._live is not None:
            self._live.__exit__(*exc)
            self._live = None

    def _every_interval(self, stop: threading.Event) -> None:
        while not stop.wait(min(1.0, self.interval)):
            self._tick()

    def _tick(self, force: bool = False) -> None:
        if self.quiet or self._live is not None:
            return
        now = time.monotonic()
        with self._lock:
            due = force or now - self._last >= self.interval
            if due:
                self._last = now
        if due and (self.pages or self.kind == "extract"):
            self.line(self.summary())

    def summary(self) -> str:
        with self._lock:
            parts = [f"{r}: {self._count(r)} done" if r in self.planned else f"{r}: {self.rows[r]} rows/{self.pages[r]} pages"
                     for r in self.pages]
        extra = " | ".join(x for x in (self._eta_text(), self._stats_text()) if x)
        return "; ".join(parts) + (f" | {extra}" if extra else "")

    def _eta_text(self) -> str:
        counts, left = self.eta()
        out = []
        if counts is not None:
            out.append(f"{self.source} requests {counts[0]}/{counts[1]}")
        if left is not None:
            out.append(f"about {format_seconds(left)} left" if left >= 1 else "finishing (taking longer than last time)")
        elif self.baseline is None and self.kind == "extract":
            out.append("time left: unknown (no previous sync to estimate from)")
        return ", ".join(out)

    def _stats_text(self) -> str:
        if not self.stats_fn:
            return ""
        s = self.stats_fn()
        text = f"requests {s.get('requests', 0)}, 429s {s.get('rate_limited', 0)}, retries {s.get('retries', 0)}"
        if s.get("limit"):
            text += (f"; limit {s['limit']}/{s.get('window_s') or 0:g}s, waited for it "
                     f"{format_seconds(float(s.get('waited_wall_s') or 0.0))} (wall clock)")
        return text

    def _render(self) -> Table:
        t = Table(title=f"whsync — {self.stage}" if self.stage else "whsync", title_justify="left")
        t.add_column("resource")
        t.add_column("pages", justify="right")
        t.add_column("rows", justify="right")
        with self._lock:
            for r in self.pages:
                t.add_row(r, str(self.pages[r]), self._count(r))
        extra = "\n".join(x for x in (self._eta_text(), self._stats_text()) if x)
        if extra:
            t.caption = extra
        return t
