"""Shared by the executors: the write retry bounds, the Benchling chunk size, parallel sends, results."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from ..model import Action

WRITE_TRIES = 4          # tries of one write (3 retries of a 429/5xx/transport error), as bounded as a read
WRITE_RETRY_SECONDS = 60.0
# Users per `GET /users?ids=` (the API's page maximum) and per `POST /users:bulk-update`. Benchling's bulk
# limit for users is not documented (its general bulk limit is 1,000): 100 keeps one chunk's re-check at
# one request, a task small (the simulator, like we assume Benchling, fails a task's chunk all or nothing),
# and a per-item error's blast radius to 100 actions, for 1 % more requests than chunks of 1,000 at 500 users.
CHUNK = 100
# Requests sent together before Benchling's first answer tells the rate limit (the live check's chunks: at most
# `_parallel`'s 8 in flight). Benchling's documented minimum is 60 per 30 s per tenant (support raises it, never
# lowers it): 8 at once earn a 429 only when other clients already spent more than 52 of the current window
# (one request alone would earn one at 60), and save the apply the round trip that only learns the limit.
FIRST_BURST = 8
TASK_WAIT_SECONDS = 600.0  # as benchling-sdk's wait_for_task; a task still RUNNING then is left `unknown`


def _parallel(fn: Any, items: list) -> list:
    """fn over items at once (at most 8 in flight), results in order; the client's rate budget paces them."""
    if len(items) <= 1:
        return [fn(x) for x in items]
    with ThreadPoolExecutor(max_workers=min(8, len(items))) as pool:
        return list(pool.map(fn, items))


def _as_completed(fn: Any, items: list) -> Any:
    """fn over items at once (at most 8 in flight), yielding (item, fn(item)) as each ends; an exception raised
    by fn propagates (the items still running finish first)."""
    if len(items) <= 1:
        for x in items:
            yield x, fn(x)
        return
    with ThreadPoolExecutor(max_workers=min(8, len(items))) as pool:
        futures = {pool.submit(fn, x): x for x in items}
        for f in as_completed(futures):
            yield futures[f], f.result()


class SystemRefused(Exception):
    """The API refused the write credentials (401/403): one line, the system's remaining actions are not tried."""


@dataclass
class Result:
    action: Action
    outcome: str
    cause: str | None
    before: Any
    after: Any


def matches(state: dict[str, Any] | None, want: dict[str, Any]) -> bool:
    if state is None:
        return False
    return all(state.get(k) == v for k, v in want.items() if v is not None or k == "role")
