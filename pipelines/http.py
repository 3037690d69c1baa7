"""Helpers shared by the HTTP clients (Benchling, Paradime, Bencher): the refusal to send credentials
over plain http to anything but loopback, the one retry policy (bounded in tries and in total time;
which statuses and transport failures are worth another try, exponential backoff with jitter, the
server's ``Retry-After``) and the redaction of secrets from messages and logs."""
from __future__ import annotations

import ipaddress
import logging
import random
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable
from urllib.parse import urlsplit

import requests


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def is_loopback(host: str) -> bool:
    """True for an IP literal in 127.0.0.0/8 or ``::1`` (also ``::ffff:127.x.y.z``), or the name
    ``localhost`` when every address it resolves to is loopback. Any other name is not loopback,
    whatever it starts with: ``127.0.0.1.nip.io`` resolves wherever its owner wants."""
    ip = _ip(host)
    if ip is not None:
        mapped = getattr(ip, "ipv4_mapped", None)
        return (mapped or ip).is_loopback
    if host.lower().rstrip(".") != "localhost":
        return False
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    addresses = [_ip(str(info[4][0])) for info in infos]
    return bool(addresses) and all(a is not None and a.is_loopback for a in addresses)


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


@dataclass(frozen=True)
class RetryPolicy:
    """The one retry policy of the three clients: at most ``max_tries`` tries of a request (``refused_tries``
    when the host refuses the connection: nothing listens, waiting rarely helps), and no wait that would
    end more than ``max_seconds`` after the first try began. Waits back off exponentially with jitter from
    ``base`` up to ``cap`` seconds, and are at least the server's ``Retry-After`` (up to MAX_RETRY_AFTER)."""

    max_tries: int = 6
    max_seconds: float = 300.0
    base: float = 0.5
    cap: float = 15.0
    refused_tries: int = 3

    def delay(self, tries: int, retry_after: str | None = None) -> float:
        """The wait after the ``tries``-th failed try (1-based)."""
        delay = backoff_delay(tries, self.base, self.cap)
        wait = retry_after_seconds(retry_after)
        if wait is not None:
            delay = max(delay, min(wait, MAX_RETRY_AFTER))
        return delay


class Retries:
    """The tries of one request under a :class:`RetryPolicy`. After each failed try, :meth:`failed` either
    sleeps before the next or raises ``error`` naming the problem, the tries and the time spent."""

    def __init__(self, policy: RetryPolicy, error: type[Exception], logger: logging.Logger) -> None:
        self.policy, self.error, self.logger = policy, error, logger
        self.tries = 0
        self.started = time.monotonic()

    def failed(self, problem: str, *, retry_after: str | None = None, delay: float | None = None,
               error: type[Exception] | None = None, refused: bool = False,
               sleep: Callable[[float], None] = time.sleep) -> float:
        """Count a failed try; raise if no retry is left within the policy, else wait (with `sleep`: the
        Benchling client counts a 429's wait as time held back by the rate limit); return the wait."""
        self.tries += 1
        wait = self.policy.delay(self.tries, retry_after) if delay is None else delay
        elapsed = time.monotonic() - self.started
        limit = min(self.policy.max_tries, self.policy.refused_tries) if refused else self.policy.max_tries
        if self.tries >= limit or elapsed + wait > self.policy.max_seconds:
            raise (error or self.error)(
                f"{problem} (gave up after {self.tries} tries in {elapsed:.0f}s)") from None
        self.logger.info("%s; retrying in %.1fs (try %d of at most %d)", problem, wait, self.tries + 1, limit)
        sleep(wait)
        return wait


def transport_failure(exc: BaseException) -> str:
    """What went wrong below HTTP, from the exception types (requests wraps urllib3, which wraps socket):
    ``unknown host``, ``refused``, ``timeout`` or ``dropped``."""
    seen: set[int] = set()
    todo: list[Any] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen or not isinstance(e, BaseException):
            continue
        seen.add(id(e))
        if isinstance(e, socket.gaierror):
            return "unknown host"
        if isinstance(e, ConnectionRefusedError):
            return "refused"
        todo += [e.__cause__, e.__context__, getattr(e, "reason", None), *e.args]
    if isinstance(exc, requests.Timeout):
        return "timeout"
    return "dropped"


def send_with_retries(send: Callable[[], requests.Response], retries: Retries, what: str, target: str,
                      timeout: float, detail: Callable[[requests.Response], str] = lambda r: "") -> requests.Response:
    """``send()`` until it answers a status that is not worth another try (returned, whatever it is).
    Timeouts, dropped or refused connections and RETRY_STATUSES are retried under ``retries``; an unknown
    host fails at once. Messages name ``what`` and ``target``, never the exception's text (it may carry a
    secret URL), and exceptions are not chained."""
    while True:
        retry_after = None
        try:
            resp = send()
        except (requests.Timeout, requests.ConnectionError) as exc:
            kind = transport_failure(exc)
            if kind == "unknown host":
                raise retries.error(f"{what}: host {target} is unknown (check the URL)") from None
            problem = (f"{what}: no answer from {target} within {timeout:g}s" if kind == "timeout" else
                       f"{what}: cannot connect to {target} (connection {'refused' if kind == 'refused' else 'dropped'})")
            retries.failed(problem, refused=kind == "refused")
            continue
        except requests.RequestException as exc:
            raise retries.error(f"{what}: request failed ({type(exc).__name__})") from None
        if resp.status_code not in RETRY_STATUSES:
            return resp
        retries.failed(f"{what}: HTTP {resp.status_code}{detail(resp)}", retry_after=resp.headers.get("Retry-After"))


def redact(text: str, secrets: Iterable[str], limit: int = 500) -> str:
    """``text`` with every non-empty secret replaced by ``***``, cut to ``limit`` characters."""
    for s in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(s, "***")
    return text[:limit]


class Redactor(logging.Filter):
    """Masks registered secret strings (endpoints, keys, tokens, their Basic forms) in log records, e.g.
    urllib3's debug lines that carry the request path."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def register(self, *values: str | None) -> None:
        for v in values:
            if not v:
                continue
            self.secrets.add(v)
            if "://" in v:  # urllib3 logs a URL's host and path separately: mask the path too
                path = v.split("://", 1)[1].partition("/")[2]
                if path:
                    self.secrets.add("/" + path)

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            msg = record.getMessage()
            clean = redact(msg, self.secrets, limit=len(msg))
            if clean != msg:
                record.msg, record.args = clean, None
        return True


REDACTOR = Redactor()
logging.getLogger("urllib3.connectionpool").addFilter(REDACTOR)


class _HeadersAsGiven(requests.auth.AuthBase):
    """A session's auth that changes nothing: the clients send their own Authorization header. Without a
    session auth, requests looks up ~/.netrc (or $NETRC) on every request, and an entry there for the API's
    host would replace the client's header with the file's login (an API key silently swapped for other
    credentials); the lookup was also ~1% of a sync's CPU. A redirect is requests' own business as before (it
    drops the header on another host, and may sign in there with a netrc login)."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        return r

    def __repr__(self) -> str:
        return "HeadersAsGiven()"


def headers_as_given(session: requests.Session) -> requests.Session:
    """`session`, sending each request's Authorization header as the client set it, never a ~/.netrc login.
    Every client applies it to the session it makes or is given (a CountingSession, a PacedSession)."""
    if session.auth is None:
        session.auth = _HeadersAsGiven()
    return session


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
