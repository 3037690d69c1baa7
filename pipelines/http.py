"""Helpers shared by the HTTP clients (Benchling, Paradime, Bencher): the refusal to send credentials
over plain http, which statuses are worth another attempt, exponential backoff with jitter, and the
server's ``Retry-After``."""
from __future__ import annotations

import logging
import random
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import requests

def is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


def refuse_plain_http(url: str, secret: str, allow_insecure_http: bool, show_host: bool = True) -> None:
    """Raise ValueError if `secret` (e.g. "the Benchling API key") would travel over plain http to a
    host that is not a loopback address, unless explicitly allowed. `show_host=False` keeps the host out
    of the message, for URLs that are secret themselves (Paradime endpoints)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "http" and not is_loopback(host) and not allow_insecure_http:
        where = f" to {host}" if show_host else ""
        raise ValueError(
            f"refusing to send {secret} over plain http{where}; use https (plain http is only allowed "
            "to loopback addresses such as a local simulator, or with --allow-insecure-http)"
        )


RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

MAX_RETRY_AFTER = 60.0  # seconds: a larger Retry-After is not waited for in full


def backoff_delay(attempt: int, base: float, cap: float, floor: float | None = None) -> float:
    """Exponential backoff with jitter: a uniform draw up to ``min(cap, base * 2**attempt)``, from
    ``floor`` (by default, half of that ceiling)."""
    ceiling = min(cap, base * 2**attempt)
    return random.uniform(ceiling / 2 if floor is None else floor, ceiling)


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` header given in seconds, or None (absent, empty or an HTTP date)."""
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def retry_delay(attempt: int, retry_after: str | None, base: float, cap: float) -> float:
    """The backoff for ``attempt``, but at least the server's ``Retry-After`` (up to MAX_RETRY_AFTER)."""
    delay = backoff_delay(attempt, base, cap)
    wait = retry_after_seconds(retry_after)
    if wait is not None:
        delay = max(delay, min(wait, MAX_RETRY_AFTER))
    return delay


def give_up_or_wait(
    problem: str,
    attempt: int,
    max_retries: int,
    retry_after: str | None,
    *,
    base: float,
    cap: float,
    error: type[Exception],
    logger: logging.Logger,
) -> None:
    """After the failed 0-based ``attempt``: raise ``error`` naming ``problem`` when no retry is
    left, else log the retry and sleep for :func:`retry_delay`."""
    if attempt >= max_retries:
        raise error(f"{problem} (gave up after {attempt + 1} attempts)") from None
    logger.warning("%s; retrying (attempt %d of %d)", problem, attempt + 2, max_retries + 1)
    time.sleep(retry_delay(attempt, retry_after, base, cap))


class CountingSession(requests.Session):
    """A session that counts what its clients sent, for the run log: requests, 429 answers, and
    retries (answers with a retryable status and transport errors: the clients send those again, or
    give up and fail the sync, which then logs no run)."""

    def __init__(self) -> None:
        super().__init__()
        self.requests = 0
        self.rate_limited = 0
        self.retries = 0
        self._count_lock = threading.Lock()

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        with self._count_lock:
            self.requests += 1
        try:
            resp = super().request(*args, **kwargs)
        except (requests.Timeout, requests.ConnectionError):
            with self._count_lock:
                self.retries += 1
            raise
        if resp.status_code in RETRY_STATUSES:
            with self._count_lock:
                self.retries += 1
                self.rate_limited += resp.status_code == 429
        return resp

    def counts(self) -> dict[str, int]:
        with self._count_lock:
            return {"requests": self.requests, "rate_limited": self.rate_limited, "retries": self.retries}
