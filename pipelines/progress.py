"""Progress output for long work: a live table on a terminal, plain timestamped lines otherwise.

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
        self._lock = threading.Lock()
        self._last = time.monotonic()
        self._start = time.monotonic()
        self._live: Live | None = None
        self.console = Console(file=self.stream, highlight=False, soft_wrap=True)

    # -- counters -------------------------------------------------------------------------------

    def page(self, resource: str, pages: int, rows: int) -> None:
        with self._lock:
            self.pages[resource] += pages
            self.rows[resource] += rows
        self._tick()

    def plan(self, resource: str, total: int) -> None:
        """Announce how many items `resource` will fetch: shown as done/planned."""
        with self._lock:
            self.planned[resource] = total
            self.pages.setdefault(resource, 0)
            self.rows.setdefault(resource, 0)
        self._tick(force=True)

    def _count(self, r: str) -> str:
        return f"{self.rows[r]}/{self.planned[r]}" if r in self.planned else str(self.rows[r])

    def set_stage(self, stage: str) -> None:
        self.stage = stage
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

    def line(self, text: str) -> None:
        if self.quiet:
            return
        elapsed = time.monotonic() - self._start
        if self._live is not None:
            self._live.console.print(f"[{elapsed:6.1f}s] {text}", markup=False)
        else:
            print(f"[{elapsed:6.1f}s] {text}", file=self.stream, flush=True)

    # -- rendering ------------------------------------------------------------------------------

    def __enter__(self) -> "Progress":
        if self.tty and not self.quiet:
            self._live = Live(self._render(), console=self.console, refresh_per_second=4, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.update(self._render())
            self._live.__exit__(*exc)
            self._live = None

    def _tick(self, force: bool = False) -> None:
        if self.quiet:
            return
        if self._live is not None:
            self._live.update(self._render())
            return
        now = time.monotonic()
        if force or now - self._last >= self.interval:
            self._last = now
            if self.pages:
                self.line(self.summary())

    def summary(self) -> str:
        with self._lock:
            parts = [f"{r}: {self._count(r)} done" if r in self.planned else f"{r}: {self.rows[r]} rows/{self.pages[r]} pages"
                     for r in self.pages]
        extra = self._stats_text()
        return "; ".join(parts) + (f" | {extra}" if extra else "")

    def _stats_text(self) -> str:
        if not self.stats_fn:
            return ""
        s = self.stats_fn()
        return (
            f"requests {s.get('requests', 0)}, rate-limit waits {s.get('paced_waits', 0)} "
            f"({s.get('paced_seconds', 0.0):.0f}s), 429s {s.get('rate_limited', 0)}, "
            f"retries {s.get('retries', 0)}"
        )

    def _render(self) -> Table:
        t = Table(title=f"whsync — {self.stage}" if self.stage else "whsync", title_justify="left")
        t.add_column("resource")
        t.add_column("pages", justify="right")
        t.add_column("rows", justify="right")
        with self._lock:
            for r in self.pages:
                t.add_row(r, str(self.pages[r]), self._count(r))
        extra = self._stats_text()
        if extra:
            t.caption = extra
        return t
