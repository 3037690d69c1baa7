"""One rate budget per API for the APIs whose clients do not pace themselves (Paradime, Bencher):
a sliding window of send times, shared by every client of that API in one apply, so its own pacing
never earns a 429. Benchling's client paces itself to the limit its headers announce (RateBudget)."""
from __future__ import annotations

import collections
import threading
import time
from typing import Any, Callable

import requests

from ..http import CountingSession

# Bencher Cloud: 2,048 requests per minute per user (reference: paradime-and-bencher-apis.md / write-endpoints.md).
BENCHER_BUDGET = (2048, 60.0)
# Paradime documents no rate limit (UNCERTAIN): a conservative 60 requests per minute, one listUsers per
# workspace plus one mutation per action.
PARADIME_BUDGET = (60, 60.0)


class PacedSession(CountingSession):
    """A requests session that sends at most `limit` requests per `window` seconds (and counts them).
    `clock` and `sleep` are time.monotonic and time.sleep unless a test gives a virtual clock."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__()
        self.limit, self.window = limit, window
        self.clock, self.sleep = clock, sleep
        self._sent: collections.deque[float] = collections.deque()
        self._pace_lock = threading.Lock()
        self.waited = 0.0

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        with self._pace_lock:
            while True:
                now = self.clock()
                while self._sent and self._sent[0] <= now - self.window:
                    self._sent.popleft()
                if len(self._sent) < self.limit:
                    break
                wait = self._sent[0] + self.window - now + 0.01
                self.waited += wait
                self.sleep(wait)
            self._sent.append(self.clock())
        return super().request(*args, **kwargs)
