"""The activity pass: `GET /users/{user_id}/activity` for the users a budget allows, stalest first.

API v2 has no bulk form, so each user costs one request, spent from the sync's one `RateBudget`.

It starts once the users listing is done and runs beside the other listings at low priority: it takes
only what the listings cannot use of each rate-limit window (see `client.RateBudget`), so it never
starves them, and fills the windows a latency-bound listing leaves half empty. Which users:

- `budget N` (default `DEFAULT_BUDGET`): users never checked first, then the oldest `checked_at`;
  ties by id. A suspended user cannot log in: once it has been checked while suspended it is left
  alone (one check after its suspension, not one every sync); unsuspended, it rejoins the rotation.
- `all`: every user (suspended ones too), stalest first.
- `off`: none. The rows of earlier syncs stay (the raw table is merged by user id).

What was checked before, and the users the incremental listing did not return this time, are read
from the warehouse being synced (the raw tables `users` and `user_activity` of the dlt dataset), as
the users' incremental cursor is read from dlt state stored there.

A 404 (the user was deleted since the listing) is recorded: its row has `not_found` true (and
`access` calls the user `removed`), and in `budget` mode it leaves the rotation unless a later listing
returns it again. The budget counts requests, retries included: a call that would go over it is not
sent. A 401/403 on this endpoint only (a key that may not read activity) stops the pass with one
warning line; the sync goes on.
"""
from __future__ import annotations

import itertools
import logging
import threading
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable, Iterator

import pyarrow as pa

from ..errors import ConfigError
from .client import BenchlingAuthError, BenchlingClient, BenchlingNotFoundError, RequestBudgetSpent

log = logging.getLogger("whsync.benchling")

# 5,000 users with a daily sync: every user re-checked at least every 10 days; 250 s of a 60/30 key's
# time (50 s at an app's 300/30). Tenants up to 500 users are fully refreshed on every sync. README.
DEFAULT_BUDGET = 500
WORKERS = 16  # concurrent activity requests: an app's 300/30 window spent in ~5 s at 250 ms latency

TS = pa.timestamp("us", tz="UTC")
SCHEMA = pa.schema([
    pa.field("user_id", pa.string(), nullable=False),
    pa.field("last_seen", TS),
    pa.field("checked_at", TS, nullable=False),
    pa.field("suspended_when_checked", pa.bool_()),
    pa.field("not_found", pa.bool_()),
    pa.field("_synced_at", TS, nullable=False),
])
COLUMNS: dict[str, dict[str, Any]] = {
    "user_id": {"data_type": "text", "nullable": False, "primary_key": True},
    "last_seen": {"data_type": "timestamp", "nullable": True},
    "checked_at": {"data_type": "timestamp", "nullable": False},
    "suspended_when_checked": {"data_type": "bool", "nullable": True},
    "not_found": {"data_type": "bool", "nullable": True},
    "_synced_at": {"data_type": "timestamp", "nullable": False},
}


class ActivityConfigError(ConfigError):
    pass


@dataclass(frozen=True)
class ActivityPolicy:
    """How many users the activity pass checks: `budget` requests, every user (`all`) or none (`off`)."""

    mode: str = "budget"  # budget | all | off
    budget: int = DEFAULT_BUDGET

    @classmethod
    def parse(cls, activity: str | None, budget: int | None) -> "ActivityPolicy":
        """From `--activity` (budget|all|off) and `--activity-budget N`."""
        mode = (activity or "budget").strip().lower()
        if mode not in ("budget", "all", "off"):
            raise ActivityConfigError(f"--activity {activity!r}: choose all, off or budget (the default)")
        if budget is not None:
            from ..bounds import ACTIVITY_BUDGET, check

            if budget < 0:
                raise ActivityConfigError(f"--activity-budget {budget}: must be 0 or more requests")
            message = check("--activity-budget", budget, ACTIVITY_BUDGET, "a number of requests")
            if message:
                raise ActivityConfigError(message)
            if mode != "budget":
                raise ActivityConfigError(f"--activity-budget {budget} contradicts --activity {mode}: give one")
            return cls("budget", budget)
        return cls(mode)

    def describe(self) -> str:
        return {"all": "every user", "off": "off"}.get(self.mode, f"budget {self.budget} requests")


@dataclass
class ActivityCounts:
    planned: int = 0
    done: int = 0
    not_found: int = 0
    forbidden: bool = False
    requests: int = 0  # activity requests sent, retries included (what the budget counts)
    unsent: int = 0  # planned checks not sent: the budget was spent by retries


@dataclass
class Check:
    checked_at: datetime
    suspended_when_checked: bool | None
    not_found: bool = False


def plan(users: dict[str, bool], checks: dict[str, Check], policy: ActivityPolicy,
         listed: Iterable[str] = ()) -> list[str]:
    """The user ids to check this sync, in order. `users`: id -> is_suspended now; `listed`: the
    ids this sync's listing returned."""
    if policy.mode == "off":
        return []
    listed = set(listed)
    due = []
    for uid, suspended in users.items():
        prev = checks.get(uid)
        if policy.mode == "budget" and suspended and prev is not None and prev.suspended_when_checked:
            continue  # checked after its suspension: its last_seen cannot change any more
        if policy.mode == "budget" and prev is not None and prev.not_found and uid not in listed:
            continue  # answered 404: deleted; only a listing that returns it again brings it back
        due.append(uid)
    due.sort(key=lambda u: (u in checks, checks[u].checked_at if u in checks else datetime.min, u))
    return due if policy.mode == "all" else due[: policy.budget]


@dataclass
class Roster:
    """Users listed by this sync (id -> isSuspended), and whether every listing has finished."""

    listings: set[str]
    users: dict[str, bool] = field(default_factory=dict)
    complete: bool = True  # the users listing was a full one (first sync, --full-refresh)
    weights: dict[str, int] = field(default_factory=dict)  # listing -> its concurrent requests
    finished: set[str] = field(default_factory=set)
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def watch(self, pages: Iterable[list[dict[str, Any]]]) -> Iterator[list[dict[str, Any]]]:
        for page in pages:
            with self._cond:
                for o in page:
                    if isinstance(o, dict) and isinstance(o.get("id"), str):
                        self.users.setdefault(o["id"], bool(o.get("isSuspended")))
            yield page

    def finish(self, listing: str) -> None:
        with self._cond:
            self.finished.add(listing)
            self._cond.notify_all()

    def users_listed(self, seconds: float) -> bool:
        """True once the users listing has finished (waits at most `seconds`)."""
        with self._cond:
            return self._cond.wait_for(lambda: "users" in self.finished, timeout=seconds)

    def streams(self) -> int:
        """Listing request streams still running (a scan with workers counts each worker)."""
        with self._cond:
            return sum(self.weights.get(name, 1) for name in self.listings - self.finished)


def read_previous(pipeline: Any) -> tuple[dict[str, bool], dict[str, Check]]:
    """Users (id -> is_suspended) and earlier checks from the raw tables in the destination, if any."""
    from dlt.destinations.exceptions import DatabaseUndefinedRelation

    users: dict[str, bool] = {}
    checks: dict[str, Check] = {}
    if pipeline is None:
        return users, checks
    with pipeline.sql_client() as c:
        for table, sql in (
            ("users", "select id, is_suspended from {}"),
            ("user_activity", "select * from {}"),  # `not_found` exists once a check answered 404
        ):
            try:
                with c.execute_query(sql.format(c.make_qualified_table_name(table))) as cur:
                    names = [d[0] for d in cur.description]
                    rows = cur.fetchall() or []
            except DatabaseUndefinedRelation:
                continue  # first sync (or first with activity): nothing before
            for r in rows:
                if table == "users":
                    users[r[0]] = bool(r[1])
                else:
                    row = dict(zip(names, r))
                    checks[row["user_id"]] = Check(_aware(row["checked_at"]), row["suspended_when_checked"],
                                                   bool(row.get("not_found")))
    return users, checks


def _aware(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    from datetime import timezone

    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _parse_seen(uid: str, body: Any) -> datetime | None:
    from ..records import MalformedRecordError

    if not isinstance(body, dict) or body.get("userId") not in (None, uid):
        raise MalformedRecordError(f"Benchling answered the activity of {uid} with {str(body)[:200]}")
    raw = body.get("lastSeen")
    if raw is None:
        return None
    try:
        return _aware(raw)
    except (TypeError, ValueError, AttributeError):
        raise MalformedRecordError(f"Benchling returned lastSeen {raw!r} for {uid}: not a date-time") from None


def fetch(
    client: BenchlingClient, order: list[str], users: dict[str, bool], synced_at: datetime,
    counts: ActivityCounts, on_done: Callable[[], None], warn: Callable[[str], None],
    workers: int = WORKERS, batch_rows: int = 5000, limit: int | None = None,
) -> Iterator[pa.Table | None]:
    """Check `order`'s users, `workers` at a time; yield Arrow batches of the raw table, and None
    between answers (`limit`: the most requests to send, retries included): dlt runs this in a pool worker, and a None hands control back to it (if the sync
    fails elsewhere, the generator is closed within one round trip instead of finishing its budget)."""
    stop = threading.Event()
    lock = threading.Lock()

    def allowance() -> bool:
        """One more activity request, if the budget has it (retries count)."""
        with lock:
            if limit is not None and counts.requests >= limit:
                return False
            counts.requests += 1
            return True

    def check(uid: str) -> tuple[str, Any]:
        if stop.is_set():
            return uid, None
        try:
            return uid, _parse_seen(uid, client.get(f"/users/{uid}/activity", low=True, allowance=allowance))
        except BenchlingNotFoundError:
            return uid, BenchlingNotFoundError
        except (BenchlingAuthError, RequestBudgetSpent) as e:
            return uid, e

    rows: list[tuple[str, datetime | None, bool]] = []
    pending = iter(order)
    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="activity")
    try:
        running = {pool.submit(check, uid) for uid in itertools.islice(pending, max(1, workers))}
        while running:
            done, running = wait(running, timeout=0.5, return_when=FIRST_COMPLETED)
            yield None
            for fut in done:
                uid, seen = fut.result()
                if isinstance(seen, BenchlingAuthError):
                    if not counts.forbidden:
                        counts.forbidden = True
                        stop.set()
                        warn(f"warning: this key may not read user activity ({seen}); "
                             "syncing without it (earlier activity rows are kept)")
                    continue
                if isinstance(seen, RequestBudgetSpent):
                    counts.unsent += 1
                    continue
                if stop.is_set():
                    continue
                if seen is BenchlingNotFoundError:
                    counts.not_found += 1
                    rows.append((uid, None, True))
                else:
                    rows.append((uid, seen, False))
                counts.done += 1
                on_done()
                nxt = next(pending, None)
                if nxt is not None and not stop.is_set():
                    running.add(pool.submit(check, nxt))
            if len(rows) >= batch_rows:
                yield _to_arrow(rows, users, synced_at)
                rows = []
    finally:  # closed early (the sync failed): send nothing more, let the requests in flight end
        stop.set()
        pool.shutdown(wait=False, cancel_futures=True)
    if rows:
        yield _to_arrow(rows, users, synced_at)


def _to_arrow(rows: list[tuple[str, datetime | None, bool]], users: dict[str, bool], synced_at: datetime) -> pa.Table:
    n = len(rows)
    return pa.Table.from_arrays([
        pa.array([u for u, _, _ in rows], pa.string()),
        pa.array([s for _, s, _ in rows], TS),
        pa.array([synced_at] * n, TS),
        pa.array([users.get(u) for u, _, _ in rows], pa.bool_()),
        pa.array([gone for _, _, gone in rows], pa.bool_()),
        pa.array([synced_at] * n, TS),
    ], schema=SCHEMA)


def summary(counts: ActivityCounts | None) -> str | None:
    """One line for the end of a sync, or None when the pass did not run."""
    if counts is None or (not counts.planned and not counts.forbidden):
        return None
    if counts.forbidden:
        return f"user activity: not readable with this key; {counts.done} of {counts.planned} users checked"
    gone = f" ({counts.not_found} not found: deleted since the listing, now `removed`)" if counts.not_found else ""
    unsent = f"; {counts.unsent} not sent (the budget went to retries)" if counts.unsent else ""
    return f"user activity: {counts.done} of {counts.planned} users checked{gone}, {counts.requests} requests{unsent}"
