"""HTTP client for Benchling API v2: auth, paging, pacing to the rate limit, retries.

Everything about *talking* to Benchling lives here; `source.py` only decides *what* to fetch.

- Auth: an API key sent as the HTTP Basic username with an empty password, or OAuth client
  credentials (`POST /api/v2/token`) for Benchling apps, refreshed before expiry.
- Paging: `nextToken` cursors; an empty string ends the scan. A response without the key is
  malformed (the SDK would crash on it too) and raises instead of silently stopping.
- Pacing: one `RateBudget` per sync, shared by every request of every resource and thread. It learns
  the tenant's limit from the `x-rate-limit-*` headers (never hard-coded), and when the window's
  requests are spent it sleeps until the window resets instead of bouncing off a 429.
- Retries: 429 waits for the window's reset (plus jitter); 5xx, timeouts and dropped connections
  back off exponentially with jitter. Both are bounded in tries and in total time.
"""
from __future__ import annotations

import base64
import collections
import logging
import math
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Iterator
from urllib.parse import urlsplit

import orjson
import requests
from requests.adapters import HTTPAdapter

from ..errors import WhsyncError
from ..http import RETRY_STATUSES, Retries, RetryPolicy, refuse_plain_http, transport_failure

log = logging.getLogger("whsync.benchling")

PAGE_SIZE = 100  # the documented maximum; fewer, fuller pages spend the rate limit best


class BenchlingError(WhsyncError, RuntimeError):
    """A failure talking to Benchling, with a one-line message safe to print (no secrets)."""


class BenchlingAuthError(BenchlingError):
    pass


class BenchlingUnreachableError(BenchlingError):
    pass


class BenchlingResponseError(BenchlingError):
    pass


class BenchlingNotFoundError(BenchlingResponseError):
    """HTTP 404: the object (e.g. a user whose activity is asked) does not exist (any more)."""


def normalize_base_url(url: str) -> str:
    """`https://acme.benchling.com`, `.../api/v2` or `.../api/v2/` -> `https://acme.benchling.com/api/v2`."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"Benchling base URL {url!r} is not an http(s) URL; "
            "give the tenant's address, e.g. https://acme.benchling.com"
        )
    path = parts.path.rstrip("/")
    if not path.endswith("/api/v2"):
        path = path + "/api/v2"
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname  # an IPv6 literal
    netloc = host + (f":{parts.port}" if parts.port else "")
    return f"{parts.scheme}://{netloc}{path}"


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

    Until the first response arrives the limit is unknown, so one request goes alone. Within a window
    the server's count only grows, so the smallest `x-rate-limit-remaining` seen in it is the count
    after the latest request the server has answered; every request still in flight may not be in
    it yet. So `min remaining - in flight` requests can be sent without risk of a 429, exactly once
    nothing is in flight. `x-rate-limit-reset` is whole seconds (rounded up): receive time + reset is
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

    def __init__(self, stats: ClientStats | None = None, margin_s: float = 0.05) -> None:
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
            return 0.0 if not self._inflight else 1.0
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
        reset = _float_header(headers, "x-rate-limit-reset", "X-RateLimit-Reset")
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

    def wait_for_reset(self, headers: Any) -> float:
        """After a 429: no more sends until the window resets; return the seconds to sleep."""
        reset = _float_header(headers, "x-rate-limit-reset", "X-RateLimit-Reset")
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


class _Auth:
    """Produces the Authorization header; never exposes the secret in repr or errors."""

    def header(self, client: "BenchlingClient") -> str:  # pragma: no cover - interface
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(***)"


class ApiKeyAuth(_Auth):
    def __init__(self, api_key: str) -> None:
        if not api_key or not api_key.strip():
            raise ValueError("the Benchling API key is empty")
        self._value = "Basic " + base64.b64encode(f"{api_key.strip()}:".encode()).decode()

    def header(self, client: "BenchlingClient") -> str:
        return self._value


class ClientCredentialsAuth(_Auth):
    """OAuth client credentials for Benchling apps: `POST /api/v2/token`, refreshed early."""

    def __init__(self, client_id: str, client_secret: str) -> None:
        if not client_id or not client_secret:
            raise ValueError("both the Benchling app's client id and client secret are needed")
        self._basic = "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def header(self, client: "BenchlingClient") -> str:
        with self._lock:
            if self._token is None or time.monotonic() >= self._expires:
                resp = client._send(
                    "POST",
                    "/token",
                    data={"grant_type": "client_credentials"},
                    headers={"Authorization": self._basic},
                )
                body = resp.json()
                self._token = body["access_token"]
                lifetime = float(body.get("expires_in", 900))
                # Refresh early, as the SDK does: 10% of the lifetime, at least 1 s.
                self._expires = time.monotonic() + lifetime - max(1.0, lifetime * 0.1)
            return f"Bearer {self._token}"


class BenchlingClient:
    """One client per sync. Thread-safe: parallel resources share its session and budget."""

    def __init__(
        self,
        base_url: str,
        auth: _Auth,
        *,
        timeout: tuple[float, float] = (10.0, 60.0),
        max_tries: int = RetryPolicy.max_tries,
        max_retry_seconds: float = RetryPolicy.max_seconds,
        pool_size: int = 32,
        allow_insecure_http: bool = False,
    ) -> None:
        self.base_url = normalize_base_url(base_url)
        self.host = urlsplit(self.base_url).hostname or ""
        self.netloc = urlsplit(self.base_url).netloc  # host[:port]: names the tenant (`scope` in `access`)
        refuse_plain_http(self.base_url, "the Benchling credentials", allow_insecure_http)
        self.auth = auth
        self.timeout = timeout
        self.retry = RetryPolicy(max_tries=max_tries, max_seconds=max_retry_seconds)
        self.stats = ClientStats()
        self.budget = RateBudget(self.stats)
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["Accept"] = "application/json"
        self.session.headers["User-Agent"] = "whsync"

    def close(self) -> None:
        self.session.close()

    # -- requests -------------------------------------------------------------------------------

    def get(self, path: str, params: dict[str, Any] | None = None, low: bool = False) -> dict[str, Any]:
        """GET and parse JSON. A 200 whose body is not JSON (cut off by a proxy, an HTML error
        page) is retried like a 5xx: it is a transport fault, not data. `low`: low priority (see
        `RateBudget`)."""
        return self._send("GET", path, params=params, authorize=True, parse_json=True, low=low)

    def paginate(
        self, path: str, key: str, params: dict[str, Any] | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        """Yield each page's list under `key`, following `nextToken` until it is empty."""
        query = dict(params or {})
        query["pageSize"] = PAGE_SIZE
        token = ""
        while True:
            if token:
                query["nextToken"] = token
            body = self.get(path, query)
            if not isinstance(body, dict) or key not in body or "nextToken" not in body:
                raise BenchlingResponseError(
                    f"Benchling at {self.host} answered GET {path} without "
                    f"{'`' + key + '`' if not isinstance(body, dict) or key not in body else '`nextToken`'}"
                    "; the response is malformed"
                )
            items = body[key]
            if not isinstance(items, list):
                raise BenchlingResponseError(
                    f"Benchling at {self.host} answered GET {path} with `{key}` that is not a list"
                )
            yield items
            token = body["nextToken"] or ""
            if not token:
                return

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        authorize: bool = False,
        parse_json: bool = False,
        low: bool = False,
    ) -> Any:
        url = self.base_url + path
        template = _path_template(path)
        retries = Retries(self.retry, BenchlingResponseError, log)
        while True:
            hdrs = dict(headers or {})
            if authorize:
                hdrs["Authorization"] = self.auth.header(self)
            seq = self.budget.acquire(low)
            resp_headers = None
            try:
                resp = self.session.request(
                    method, url, params=params, data=data, headers=hdrs, timeout=self.timeout
                )
                resp_headers = resp.headers
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as e:
                err: BaseException = e
                resp = None
            finally:
                self.budget.release(seq, resp_headers)
            self.stats.add(requests=1)

            if resp is None:
                kind = transport_failure(err)
                if kind == "unknown host" and retries.tries == 0:
                    raise BenchlingUnreachableError(
                        f"cannot reach Benchling: host {self.host!r} is unknown (check the base URL)"
                    ) from None
                what = "timed out" if kind == "timeout" else "refused or dropped the connection"
                retries.failed(f"cannot reach Benchling at {self.host}: {method} {template} {what}",
                               error=BenchlingUnreachableError, refused=kind == "refused")
                self.stats.add(retries=1)
                continue

            status = resp.status_code
            delay = None
            if status == 429:
                self.stats.add(rate_limited=1)
                delay = self.budget.wait_for_reset(resp.headers)
            elif status not in RETRY_STATUSES:
                if status == 401:
                    raise BenchlingAuthError(
                        f"the Benchling API key was refused by {self.host} (HTTP 401); "
                        "check BENCHLING_API_KEY (or sources.benchling.api_key in .dlt/secrets.toml)"
                        if isinstance(self.auth, ApiKeyAuth)
                        else f"the Benchling app credentials were refused by {self.host} (HTTP 401)"
                    )
                if status == 403:
                    raise BenchlingAuthError(
                        f"Benchling at {self.host} refused {method} {template} (HTTP 403): "
                        f"{_error_message(resp)}"
                    )
                if status >= 400:
                    raise (BenchlingNotFoundError if status == 404 else BenchlingResponseError)(
                        f"Benchling at {self.host} answered {method} {template} with HTTP {status}: "
                        f"{_error_message(resp)}"
                    )
                if not parse_json:
                    return resp
                try:
                    return orjson.loads(resp.content)
                except orjson.JSONDecodeError:
                    status = "200 with a body that is not JSON"  # type: ignore[assignment]
            retries.failed(f"Benchling at {self.host} kept answering {method} {template} with HTTP {status}",
                           delay=delay, sleep=self.budget.held_back if status == 429 else time.sleep)
            self.stats.add(retries=1)


def _error_message(resp: requests.Response) -> str:
    try:
        err = resp.json().get("error", {})
        msg = err.get("userMessage") or err.get("message")
        if msg:
            return str(msg)[:300]
    except Exception:  # noqa: BLE001 - any non-JSON body
        pass
    return (resp.text or resp.reason or "")[:200].replace("\n", " ")


def _path_template(path: str) -> str:
    parts = path.split("/")
    out = []
    for p in parts:
        if "_" in p and p.split("_", 1)[0] in {"ent", "app", "team", "src", "lib", "task"}:
            out.append("{id}")
        else:
            out.append(p)
    return "/".join(out)
