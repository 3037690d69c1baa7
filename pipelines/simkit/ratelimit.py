"""The rate limiter of the simulators: a fixed window of N requests per T seconds, answered with the
`x-rate-limit-*` headers Benchling sends (limit, remaining, seconds until the window resets)."""
from __future__ import annotations

import math
import re
import threading
import time
from typing import Any, Callable, Optional


def parse_rate_limit(value: Any) -> Optional[tuple[int, float]]:
    """'60/30' -> (60, 30.0); 'off' / None -> None; a (limit, seconds) tuple passes through. ValueError if bad."""
    if value is None or (isinstance(value, str) and value.strip().lower() == "off"):
        return None
    if isinstance(value, (tuple, list)) and len(value) == 2:
        limit, window = int(value[0]), float(value[1])
    elif isinstance(value, str) and re.fullmatch(r"\s*\d+\s*/\s*\d+(\.\d+)?\s*", value):
        a, b = value.split("/")
        limit, window = int(a), float(b)
    else:
        raise ValueError(f"invalid rate limit {value!r}: expected REQUESTS/SECONDS (e.g. 60/30) or 'off'")
    if limit < 1 or window <= 0:
        raise ValueError(f"invalid rate limit {value!r}: both numbers must be positive")
    return limit, window


class FixedWindowLimiter:
    """`reset="seconds"` (Benchling): x-rate-limit-reset is the seconds left, rounded up, windows from the first
    request; `reset="epoch"` (Okta): the UTC epoch second the window ends, windows aligned to whole seconds.
    `clock` replaces time.monotonic / time.time (a test's virtual clock)."""

    def __init__(self, limit: int, window: float, reset: str = "seconds", clock: Optional[Callable[[], float]] = None):
        self.limit, self.window = limit, window
        self.reset_mode = reset
        self.clock = clock
        self.start: Optional[float] = None
        self.count = 0
        self._lock = threading.Lock()

    def hit(self) -> tuple[bool, dict[str, str]]:
        with self._lock:
            epoch = self.reset_mode == "epoch"
            now = self.clock() if self.clock else time.time() if epoch else time.monotonic()
            if self.start is None or now >= self.start + self.window:
                self.start, self.count = (math.floor(now) if epoch else now), 0
            allowed = self.count < self.limit
            if allowed:
                self.count += 1
            reset = math.ceil(self.start + self.window) if epoch else max(0, math.ceil(self.start + self.window - now))
            return allowed, {"x-rate-limit-limit": str(self.limit),
                             "x-rate-limit-remaining": str(self.limit - self.count),
                             "x-rate-limit-reset": str(reset)}
