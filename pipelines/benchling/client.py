"""HTTP client for Benchling API v2: auth, paging, pacing to the rate limit, retries.

Everything about *talking* to Benchling lives here; `source.py` only decides *what* to fetch.

- Auth: an API key sent as the HTTP Basic username with an empty password, or OAuth client
  credentials (`POST /api/v2/token`) for Benchling apps, refreshed before expiry.
- Paging: `nextToken` cursors; an empty string ends the scan. A response without the key is
  malformed (the SDK would crash on it too) and raises instead of silently stopping.
- Pacing (`pipelines/ratelimit.py`): one `RateBudget` per sync, shared by every request of every resource and thread. It learns
  the tenant's limit from the `x-rate-limit-*` headers (never hard-coded), and when the window's
  requests are spent it sleeps until the window resets instead of bouncing off a 429.
- Retries: 429 waits for the window's reset (plus jitter); 5xx, timeouts and dropped connections
  back off exponentially with jitter. Both are bounded in tries and in total time.
"""
from __future__ import annotations

import base64
import logging
import threading
import time
from typing import Any, Iterator
from urllib.parse import urlsplit

import orjson
import requests
from requests.adapters import HTTPAdapter

from ..errors import WhsyncError
from ..http import RETRY_STATUSES, Retries, RetryPolicy, headers_as_given, refuse_plain_http, transport_failure
from ..ratelimit import ClientStats, RateBudget

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


class RequestBudgetSpent(BenchlingError):
    """A call's request allowance (e.g. `--activity-budget`) was spent before it could send (a retry)."""


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
        first_burst: int = 1,
    ) -> None:
        self.base_url = normalize_base_url(base_url)
        self.host = urlsplit(self.base_url).hostname or ""
        self.netloc = urlsplit(self.base_url).netloc  # host[:port]: names the tenant (`scope` in `access`)
        refuse_plain_http(self.base_url, "the Benchling credentials", allow_insecure_http)
        self.auth = auth
        self.timeout = timeout
        self.retry = RetryPolicy(max_tries=max_tries, max_seconds=max_retry_seconds)
        self.stats = ClientStats()
        self.budget = RateBudget(self.stats, first_burst=first_burst)  # see RateBudget: before the limit is known
        self.session = headers_as_given(requests.Session())
        adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["Accept"] = "application/json"
        self.session.headers["User-Agent"] = "whsync"

    def close(self) -> None:
        self.session.close()

    # -- requests -------------------------------------------------------------------------------

    def get(self, path: str, params: dict[str, Any] | None = None, low: bool = False,
            allowance: Any = None) -> dict[str, Any]:
        """GET and parse JSON. A 200 whose body is not JSON (cut off by a proxy, an HTML error
        page) is retried like a 5xx: it is a transport fault, not data. `low`: low priority (see
        `RateBudget`). `allowance`: called before every request of this call, retries included;
        when it returns False the call ends with `RequestBudgetSpent` instead of sending."""
        return self._send("GET", path, params=params, authorize=True, parse_json=True, low=low, allowance=allowance)

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
        allowance: Any = None,
    ) -> Any:
        url = self.base_url + path
        template = _path_template(path)
        retries = Retries(self.retry, BenchlingResponseError, log)
        while True:
            if allowance is not None and not allowance():
                raise RequestBudgetSpent(f"{method} {template}: the request budget is spent")
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
