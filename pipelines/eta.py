"""How long a sync has left: the previous published sync (from the run log) says how many requests
each resource needs and how long the rest took; the rate limit learned now says how fast requests
can go.

Under a fixed window of L requests per W seconds, R remaining requests of which B still fit in the
current window (which ends in E seconds) need ceil((R - B) / L) more windows: the time left is
E + (windows - 1) x W + (the last window's requests at the unthrottled rate). Without a limit, or
while the current window still has room, it is R / rate, the rate being requests per second of the
time not spent waiting for the limit. After the API: the previous sync's time for what follows the
last page (dlt normalize and load), the sources not yet started and the dbt build.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Baseline:
    """The previous published sync, as the run log recorded it (per source)."""

    pages: dict[str, dict[str, int]] = field(default_factory=dict)  # source -> resource -> requests with a page
    seconds: dict[str, float] = field(default_factory=dict)  # source -> its whole extract stage
    tail_seconds: dict[str, float] = field(default_factory=dict)  # source -> after its last page
    rate: dict[str, float] = field(default_factory=dict)  # source -> requests/s while not held back
    build_seconds: float = 0.0  # dbt build and publish

    @classmethod
    def from_sources(cls, sources: dict[str, dict[str, Any]], build_seconds: float | None) -> "Baseline":
        b = cls(build_seconds=float(build_seconds or 0.0))
        for name, s in sources.items():
            b.pages[name] = {k: int(v) for k, v in (s.get("pages") or {}).items()}
            b.seconds[name] = float(s.get("seconds") or 0.0)
            b.tail_seconds[name] = float(s.get("tail_seconds") or 0.0)
            sending = float(s.get("seconds") or 0.0) - float(s.get("tail_seconds") or 0.0) - float(
                s.get("waited_seconds") or 0.0)
            n = sum(b.pages[name].values())
            if n and sending > 0:
                b.rate[name] = n / sending
        return b

    def expected(self, source: str) -> int | None:
        pages = self.pages.get(source)
        return sum(pages.values()) if pages else None


def api_seconds_left(remaining: int, rate: float | None, limit: int | None = None, window_s: float | None = None,
                     window_left_s: float = 0.0, budget_left: int = 0) -> float | None:
    """Seconds to send `remaining` requests at `rate` requests/s under a fixed window of `limit` per
    `window_s` of which `budget_left` fit in the current window, ending in `window_left_s`
    (a window not yet opened: `window_left_s` = `window_s`, `budget_left` = `limit`)."""
    if remaining <= 0:
        return 0.0
    if not rate or rate <= 0:
        return None
    if not limit or not window_s or remaining <= budget_left:
        return remaining / rate
    after = remaining - budget_left
    windows = math.ceil(after / limit)
    last = after - (windows - 1) * limit
    current = max(window_left_s, budget_left / rate)
    return current + (windows - 1) * window_s + last / rate


@dataclass
class Live:
    """Where a sync is now, as the progress display knows it."""

    stage: str  # "extract", "build" or "publish"
    source: str | None  # the source being extracted
    sources: list[str]  # every source of this sync, in order
    pages: dict[str, int]  # resource -> pages so far, of the current source
    finished: set[str]  # resources of the current source whose listing ended
    stage_elapsed: float  # seconds since the current stage (source) began
    since_last_page: float  # seconds since the current source's last page (0 if none yet)
    budget: dict[str, Any] = field(default_factory=dict)  # RateBudget.snapshot() of the current source
    build: bool = True


def remaining_requests(baseline: Baseline, live: Live) -> tuple[int, int] | None:
    """(done, expected) requests of the current source, or None without a baseline for it."""
    prev = baseline.pages.get(live.source or "")
    if not prev:
        return None
    done = sum(live.pages.values())
    # a resource whose listing ended needs nothing more, whatever it needed last time (an incremental
    # listing after a full one); one still running needs at least what it needed then
    expected = sum(live.pages.get(r, 0) if r in live.finished else max(n, live.pages.get(r, 0))
                   for r, n in prev.items())
    expected += sum(n for r, n in live.pages.items() if r not in prev)
    return done, max(expected, done)


def seconds_left(baseline: Baseline | None, live: Live) -> float | None:
    """The whole sync's time left, or None when nothing is known to estimate it from."""
    if baseline is None:
        return None
    later = 0.0
    if live.stage == "extract" and live.source in live.sources:
        later = sum(baseline.seconds.get(s, 0.0) for s in live.sources[live.sources.index(live.source) + 1:])
    build = baseline.build_seconds if live.build else 0.0
    if live.stage in ("build", "publish"):
        return max(0.0, baseline.build_seconds - live.stage_elapsed)
    counts = remaining_requests(baseline, live)
    if counts is None:  # a source without page counts: its previous duration
        if live.source not in baseline.seconds:
            return None
        return max(0.0, baseline.seconds[live.source] - live.stage_elapsed) + later + build
    done, expected = counts
    b = live.budget or {}
    sending = max(0.0, live.stage_elapsed - float(b.get("waited_wall_s") or 0.0) - live.since_last_page)
    rate = done / sending if done and sending > 0.5 else baseline.rate.get(live.source or "")
    window_s = b.get("window_s")
    in_window = float(b.get("window_left_s") or 0.0) > 0
    api = api_seconds_left(expected - done, rate, b.get("limit"), window_s,
                           float(b.get("window_left_s") or 0.0) if in_window else float(window_s or 0.0),
                           int(b.get("budget_left") or 0))
    if api is None:
        return None
    tail = baseline.tail_seconds.get(live.source or "", 0.0)
    if expected - done <= 0:
        tail = max(0.0, tail - live.since_last_page)
    return api + tail + later + build


def format_seconds(s: float) -> str:
    """90 -> '1m30s', 3700 -> '1h01m', 42.3 -> '42s'."""
    s = int(round(s))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"
