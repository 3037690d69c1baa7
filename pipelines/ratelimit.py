"""Pacing to an API's rate limit, shared by the sources' clients (Benchling, Okta).

One `RateBudget` per rate-limit bucket learns the limit from the `x-rate-limit-*` headers of the
answers (never hard-coded) and sleeps until the window resets instead of bouncing off a 429.

The APIs disagree on what `x-rate-limit-reset` means, so a budget is told which it is (``reset=``):

- ``"seconds"`` (Benchling): the seconds left in the window, rounded up;
- ``"epoch"`` (Okta): the UTC epoch second at which the window resets. The seconds left are that minus
  the server's "now": the local clock when it agrees with the answer's ``Date`` header within
  ``CLOCK_SKEW_S`` (precise), else ``Date`` itself (whole seconds: an upper bound, never early).

Everything after that conversion is the same code for both.
"""
from __future__ import annotations

import collections
import math
import random
import threading
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

RESET_MODES = ("seconds", "epoch")
CLOCK_SKEW_S = 2.0  # the local clock is trusted when it is this close to the server's Date header


@dataclass
class ClientStats:
    """What the client did, for progress output and benchmarks. Thread-safe counters."""

    requests: int = 0
    rate_limited: int = 0  # 429 responses received
    retries: int = 0  # requests re-sent after a 429, a 5xx or a transport error
    paced_waits: int = 0  # times we slept because the window's budget was spent
    paced_seconds: float = 0.0  # summed over threads (8 threads waiting 10 s count 80 s)
    waited_wall_seconds: float = 0.0  # wall-clock time during which any request was held back
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **kw: float) -> None:
        with self._lock:
            for k, v in kw.items():
                setattr(self, k, getattr(self, k) + v)


class RateBudget:
    """Paces requests to a fixed-window rate limit learned from `x-rate-limit-*` headers.

    Until the first response arrives the limit is unknown, so one request goes alone (`first_burst`: up to
    that many; a caller that knows it starts with a few independent requests, far below the API's
    documented minimum limit, sends them together instead of paying a round trip to learn). Within a window
    the server's count only grows, so the smallest `x-rate-limit-remaining` seen in it is the count
    after the latest request the server has answered; every request still in flight may not be in
    it yet. So `min remaining - in flight` requests can be sent without risk of a 429, exactly once
    nothing is in flight. The seconds left in the window (`seconds_left`: whole seconds rounded up, or an
    epoch second converted) give, from the receive time,
    an upper bound of the window's end; the tightest bound seen is kept. When the window's budget
    is spent, senders sleep until it ends; after that, at most `limit` requests go until a response
    from the new window tells the new count. Another client sharing the tenant shows up as a lower
    `remaining` and is accounted for; a 429 (see `wait_for_reset`) closes the window.

    Low-priority requests (the activity pass) never take what the listings may still need: while
    `reserve()` (the number of listing streams still running) is above 0, a low-priority request goes
    only if the window keeps, after it, as many requests as those streams can send before the window
    ends (one per stream per round trip, the round trip measured). Latency-bound listings (a long
    `nextToken` chain) leave most of a window unused; the activity pass fills it without delaying them.
    """

    def __init__(self, stats: ClientStats | None = None, margin_s: float = 0.05, reset: str = "seconds",
                 first_burst: int = 1) -> None:
        if reset not in RESET_MODES:
            raise ValueError(f"reset must be one of {RESET_MODES}, not {reset!r}")
        self.first_burst = max(1, int(first_burst))
        self.reset_mode = reset
        self._cond = threading.Condition()
        self._stats = stats or ClientStats()
        self._margin = margin_s
        self._seq = 0
        self._inflight: dict[int, float] = {}  # seq -> monotonic send time
        self.limit: int | None = None
        self._window_end = 0.0
        self._min_remaining = 0
        self._sent_after_end: collections.deque[float] = collections.deque()
        self.unlimited = False  # the server sent no rate-limit headers
        self.window_s: float | None = None  # the window's length: the largest reset header seen
        self._waiters = 0
        self._wait_since = 0.0
        self.reserve: Any = None  # () -> listing streams still running (see the class docstring)
        self._rtt = 0.0  # moving average of a request's round trip, seconds

    def _wait_begins(self) -> None:  # called with self._cond held
        self._waiters += 1
        if self._waiters == 1:
            self._wait_since = time.monotonic()

    def _wait_ends(self) -> None:
        self._waiters -= 1
        if self._waiters == 0:
            self._stats.add(waited_wall_seconds=time.monotonic() - self._wait_since)

    def held_back(self, seconds: float) -> None:
        """Sleep `seconds` for the rate limit (after a 429), counted in the wall-clock waiting."""
        with self._cond:
            self._wait_begins()
        try:
            time.sleep(seconds)
        finally:
            with self._cond:
                self._wait_ends()

    def snapshot(self) -> dict[str, float | int | None]:
        """What the budget knows now, for the time-left estimate: the limit, the window's length,
        seconds until the current window ends, requests still allowed in it, and the wall-clock
        seconds spent waiting so far (including a wait in progress)."""
        with self._cond:
            now = time.monotonic()
            waited = self._stats.waited_wall_seconds + (now - self._wait_since if self._waiters else 0.0)
            if self.limit is None or self.unlimited:
                return {"limit": None, "window_s": None, "window_left_s": 0.0, "budget_left": 0,
                        "waited_wall_s": waited}
            in_window = now < self._window_end
            return {
                "limit": self.limit,
                "window_s": self.window_s,
                "window_left_s": max(0.0, self._window_end - now) if in_window else 0.0,
                "budget_left": max(0, self._min_remaining - len(self._inflight)) if in_window else self.limit,
                "waited_wall_s": waited,
            }

    def _held_back(self, now: float) -> int:
        """Requests of the current window kept for the listings (0 once they are done)."""
        streams = self.reserve() if self.reserve else 0
        if not streams:
            return 0
        left = (self._window_end - now) if now < self._window_end else (self.window_s or 0.0)
        return streams * (1 + math.ceil(max(0.0, left) / max(self._rtt, 0.01)))

    def _may_send(self, now: float, low: bool = False) -> float:
        """0 if a request may go now, else how long to wait (a response may shorten it)."""
        if low and self.limit is not None and not self.unlimited:
            held = self._held_back(now)
            if held:
                if now < self._window_end:
                    free = self._min_remaining - len(self._inflight)
                else:
                    free = self.limit - len(self._sent_after_end) - len(self._inflight)
                if free <= held:
                    return max(0.05, min(self._rtt or 0.05, 0.5))
        if self.unlimited:
            return 0.0
        if self.limit is None:
            return 0.0 if len(self._inflight) < self.first_burst else 1.0
        if now < self._window_end:
            if self._min_remaining - len(self._inflight) > 0:
                return 0.0
            return self._window_end + self._margin - now
        while self._sent_after_end and self._sent_after_end[0] < self._window_end:
            self._sent_after_end.popleft()
        before_end = sum(1 for t in self._inflight.values() if t < self._window_end)
        return 0.0 if len(self._sent_after_end) + before_end < self.limit else 1.0

    def acquire(self, low: bool = False) -> int:
        with self._cond:
            waited = 0.0
            while True:
                delay = self._may_send(time.monotonic(), low)
                if delay <= 0:
                    break
                if not waited:
                    self._wait_begins()
                t0 = time.monotonic()
                self._cond.wait(max(0.005, delay))
                waited += time.monotonic() - t0
            if waited:
                self._wait_ends()
                self._stats.add(paced_waits=1, paced_seconds=waited)
            seq = self._seq
            self._seq += 1
            now = time.monotonic()
            self._inflight[seq] = now
            if now >= self._window_end:
                self._sent_after_end.append(now)
            return seq

    def release(self, seq: int, headers: Any | None) -> None:
        with self._cond:
            sent_at = self._inflight.pop(seq, time.monotonic())
            rtt = time.monotonic() - sent_at
            self._rtt = rtt if not self._rtt else 0.8 * self._rtt + 0.2 * rtt
            if headers is not None:
                self._learn(headers, sent_at)
            self._cond.notify_all()

    def _learn(self, headers: Any, sent_at: float) -> None:
        limit = _int_header(headers, "x-rate-limit-limit", "X-RateLimit-Limit")
        remaining = _int_header(headers, "x-rate-limit-remaining", "X-RateLimit-Remaining")
        reset = self.seconds_left(headers)
        if limit is None or remaining is None or reset is None:
            # no limit announced: before any limit is known, or for a request sent after the known
            # window ended (e.g. only a 429 carried headers): pace no more, until headers come back
            if self.limit is None or sent_at >= self._window_end:
                self.unlimited = True
            return
        self.unlimited = False
        self.limit = limit
        self.window_s = max(self.window_s or 0.0, reset) or None
        estimate = time.monotonic() + reset
        if sent_at >= self._window_end:  # sent after the known window ended: a new window's count
            self._window_end = estimate
            self._min_remaining = remaining
            self._sent_after_end.clear()
        else:
            self._window_end = min(self._window_end, estimate)
            self._min_remaining = min(self._min_remaining, remaining)

    def seconds_left(self, headers: Any) -> float | None:
        """Seconds until the window announced by `headers` resets (None: no reset header), by
        `reset_mode`: the header itself (seconds), or the epoch second minus the server's now."""
        reset = _float_header(headers, "x-rate-limit-reset", "X-RateLimit-Reset")
        if reset is None or self.reset_mode == "seconds":
            return reset
        now = time.time()
        server_now = _http_date(headers.get("Date"))
        if server_now is not None and abs(server_now - now) > CLOCK_SKEW_S:
            now = server_now  # our clock is off: count from the server's own clock
        return max(0.0, reset - now)

    def wait_for_reset(self, headers: Any) -> float:
        """After a 429: no more sends until the window resets; return the seconds to sleep."""
        reset = self.seconds_left(headers)
        retry_after = _float_header(headers, "Retry-After")
        delay = reset if reset is not None else (retry_after if retry_after is not None else 1.0)
        with self._cond:
            self._window_end = max(self._window_end, time.monotonic() + delay)
            self._min_remaining = 0
        return delay + random.uniform(0.05, 0.5)


def _int_header(headers: Any, *names: str) -> int | None:
    v = _float_header(headers, *names)
    return None if v is None else int(v)


def _float_header(headers: Any, *names: str) -> float | None:
    for n in names:
        raw = headers.get(n)
        if raw is not None:
            try:
                return float(raw)
            except ValueError:
                return None
    return None


def _http_date(value: str | None) -> float | None:
    """An HTTP ``Date`` header as an epoch second, or None."""
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
