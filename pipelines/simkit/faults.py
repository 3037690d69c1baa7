"""Fault injection for the simulators (`whsync simulate benchling --faults`, `BenchlingSimulator(faults=...)`,
`ParadimeSimulator(faults=...)`, `BencherSimulator(faults=...)`).

A spec is ``kind:rate`` pairs joined by commas, e.g. ``429:0.1,503:0.05,reset:0.1``; a rate is the share of
eligible requests (0..1) that get the fault. Which requests are eligible is the simulator's (`eligible=`):
Benchling's are ``GET /api/v2/...`` (never writes, ``POST /token`` or ``/_simulator/*``), Paradime's and
Bencher's every API request; and only those the rate limiter let through (`gate.admit`).

Transient kinds (429, 500, 502, 503, 504, reset, slow, truncate, nonjson): every eligible request draws one
number from the simulator's own ``random.Random(seed)`` and gets at most one of them (the rates are
stacked, so they must add up to at most 1). A retry draws again, so it can succeed. The same seed and the
same request sequence give the same faults.

Scripted faults: ``fail_next(count, status)`` gives the next ``count`` eligible requests HTTP ``status`` in the
API's own error envelope (``error(status, "Simulated HTTP <status>")``), before any draw; a transient kind name
instead of a status (``fail_next(1, "reset")``) gives that kind's answer. Counted like the drawn ones.

The answers are each API's own: ``error(status, message)`` is its error envelope (429 and 500),
``too_many(headers)`` its 429 (the limiter's and an injected one), ``page_title`` the title of the HTML page
``nonjson`` sends; 502/503/504 are a gateway's HTML page whatever the API.

Data-shape kinds (duplicate, extra_field, missing_optional) are a pure function of (seed, kind, page or
object), not of the request sequence: a retry, or a later sync, sees exactly the same shape.
"""
from __future__ import annotations

import hashlib
import json
import random
import threading
import time
from collections import deque
from typing import Any, Callable, Optional, Union

from .wire import Response

# kind -> one-line description (used by `--help` and kept in step with the README).
KINDS: dict[str, str] = {
    "429": "spurious rate-limit response: 429 with the documented body, x-rate-limit-remaining 0 and reset >= 1",
    "500": "500 with the JSON error envelope",
    "502": "502 with an HTML body (not JSON), as a gateway sends",
    "503": "503 with an HTML body (not JSON)",
    "504": "504 with an HTML body (not JSON)",
    "reset": "connection reset: the socket is closed (RST) without any response",
    "slow": "the real response, sent only after --slow-seconds (longer than a client timeout)",
    "truncate": "200 whose JSON body is cut in half (Content-Length matches the bytes sent)",
    "nonjson": "200 with an HTML body instead of JSON",
    "duplicate": "a list page repeats the last item of the previous page (the first page: its own first item); "
                 "no item is skipped",
    "extra_field": "an object carries an unknown key futureField: {...}",
    "missing_optional": "an object omits one optional key whose value is null (e.g. archiveRecord, "
                        "parentFolderId, apiKeyLastChangedAt)",
}
TRANSIENT = ("429", "500", "502", "503", "504", "reset", "slow", "truncate", "nonjson")
SHAPE = ("duplicate", "extra_field", "missing_optional")
EXTRA_FIELD = "futureField"
# Optional keys that missing_optional may drop, only when their value is null (absent == null, so no
# information is lost and a correct sync builds the same warehouse).
OPTIONAL_KEYS = ("apiKeyLastChangedAt", "passwordLastChangedAt", "archiveRecord", "appDefinition", "parentFolderId")

_GATEWAY_TITLES = {502: "502 Bad Gateway", 503: "503 Service Temporarily Unavailable", 504: "504 Gateway Time-out"}
_NONJSON_BODY = ("<!DOCTYPE html>\n<html><head><title>{title}</title></head>\n"
                 "<body><p>Please wait while we sign you in&hellip;</p></body></html>\n")
Kind = Union[str, int]  # a transient kind, or the HTTP status of a scripted fault (`fail_next`)


def plain_error(status: int, message: str) -> Response:
    """The default error envelope: ``{"message": ...}``."""
    return Response(status, {"message": message})


def _not_simulator_path(req) -> bool:
    return not req.path.startswith("/_simulator")


def parse_faults(spec: Union[None, str, dict]) -> dict[str, float]:
    """'429:0.1,reset:0.05' (or {'429': 0.1}) -> {'429': 0.1, 'reset': 0.05}. None/''/'off' -> {}.

    ValueError naming the bad part: unknown kind, rate not a number in 0..1, malformed pair, a kind given
    twice, or transient rates adding up to more than 1."""
    if spec is None:
        return {}
    if isinstance(spec, dict):
        pairs = [(str(k), v) for k, v in spec.items()]
    elif isinstance(spec, str):
        if spec.strip().lower() in ("", "off", "none"):
            return {}
        pairs = []
        for part in spec.split(","):
            kind, sep, rate = part.partition(":")
            if not sep or not kind.strip() or not rate.strip():
                raise ValueError(f"malformed fault {part.strip()!r}: expected KIND:RATE (e.g. 503:0.1)")
            pairs.append((kind.strip(), rate.strip()))
    else:
        raise ValueError(f"invalid faults {spec!r}: expected a string like '429:0.1,reset:0.05' or a dict")
    out: dict[str, float] = {}
    for kind, raw in pairs:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}: expected one of {', '.join(KINDS)}")
        if kind in out:
            raise ValueError(f"fault kind {kind!r} given twice")
        try:
            if isinstance(raw, bool):
                raise ValueError
            rate = float(raw)
        except (TypeError, ValueError):
            raise ValueError(f"invalid rate {raw!r} for fault {kind!r}: expected a number from 0 to 1") from None
        if not 0.0 <= rate <= 1.0:  # also rejects nan
            raise ValueError(f"invalid rate {raw!r} for fault {kind!r}: must be between 0 and 1")
        out[kind] = rate
    total = sum(r for k, r in out.items() if k in TRANSIENT)
    if total > 1.0 + 1e-9:
        raise ValueError(f"transient fault rates add up to {total:g} > 1 "
                         f"({', '.join(k for k in out if k in TRANSIENT)}): a request gets at most one of them")
    return out


def _unit(*parts: Any) -> float:
    """A deterministic number in [0, 1) from the parts."""
    h = hashlib.blake2b("\x00".join(map(str, parts)).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(h, "big") / 2.0 ** 64


class FaultInjector:
    """The faults of one simulator. Thread-safe; counts what it injected (see `counts`).

    `eligible(req)`: which requests may get a fault (default: all but ``/_simulator/*``); `error(status,
    message) -> Response`: the API's error envelope; `too_many(headers) -> Response`: the API's 429, given
    the ``x-rate-limit-*`` values (default: ``error(429, ...)`` with those headers); `page_title`: of the
    ``nonjson`` page."""

    def __init__(self, spec: Union[None, str, dict] = None, seed: int = 0, slow_seconds: float = 5.0, *,
                 eligible: Optional[Callable[[Any], bool]] = None,
                 error: Callable[[int, str], Response] = plain_error,
                 too_many: Optional[Callable[[dict[str, str]], Response]] = None,
                 page_title: str = "Sign in"):
        self.rates = parse_faults(spec)
        if not (isinstance(slow_seconds, (int, float)) and slow_seconds >= 0):
            raise ValueError(f"invalid slow_seconds {slow_seconds!r}: must be a number >= 0")
        self.seed = seed
        self.slow_seconds = float(slow_seconds)
        self.eligible = eligible or _not_simulator_path
        self.error = error
        self.too_many = too_many or self._too_many
        self.page_title = page_title
        self._rng = random.Random(seed)
        self._transient = [(k, r) for k, r in self.rates.items() if k in TRANSIENT and r > 0]
        self._scripted: deque[Kind] = deque()
        self.scripted_used = False  # fail_next was called: the stats show the counts
        self._lock = threading.Lock()
        self.reset_counts()

    @property
    def in_use(self) -> bool:
        """Faults were configured or scripted: a simulator's stats then show `counts()` (else keep their shape)."""
        return bool(self.rates) or self.scripted_used

    def _too_many(self, headers: dict[str, str]) -> Response:
        return Response(429, self.error(429, "Rate limit exceeded.").body, dict(headers))

    # ---- scripted faults ---------------------------------------------------------------------
    def fail_next(self, count: int, status: Kind = 503) -> None:
        """The next `count` eligible requests get HTTP `status` in the API's error envelope (or, given a
        transient kind such as "reset", that kind's answer)."""
        if isinstance(status, str) and status not in TRANSIENT:
            raise ValueError(f"unknown fault kind {status!r}: expected an HTTP status or one of {', '.join(TRANSIENT)}")
        with self._lock:
            self._scripted.extend([status] * count)
            self.scripted_used = True

    # ---- counts ------------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def reset_counts(self) -> None:
        with self._lock:
            self._counts = {k: 0 for k in self.rates}

    def _count(self, kind: str, n: int = 1) -> None:
        if n:
            with self._lock:
                self._counts[kind] = self._counts.get(kind, 0) + n

    # ---- transient faults --------------------------------------------------------------------
    def roll(self, req) -> Optional[Kind]:
        """The fault for this request, or None: a scripted one first, else one draw per eligible request."""
        if not (self._transient or self._scripted) or not self.eligible(req):
            return None
        with self._lock:
            if self._scripted:
                return self._scripted.popleft()
            if not self._transient:
                return None
            u = self._rng.random()
        acc = 0.0
        for kind, rate in self._transient:
            acc += rate
            if u < acc:
                return kind
        return None

    def respond(self, kind: Optional[Kind], rl_headers: dict[str, str]):
        """The replacement response for a scripted status or 429/5xx/reset, or None (the request goes on;
        'slow' sleeps first)."""
        if kind is None:
            return None
        if isinstance(kind, int):
            self._count(str(kind))
            return self.error(kind, f"Simulated HTTP {kind}")
        if kind == "429":
            self._count(kind)
            reset = rl_headers.get("x-rate-limit-reset", "1")
            headers = {"x-rate-limit-limit": rl_headers.get("x-rate-limit-limit", "60"),
                       "x-rate-limit-remaining": "0",
                       "x-rate-limit-reset": str(max(1, int(reset)))}
            return self.too_many(headers)
        if kind == "500":
            self._count(kind)
            return self.error(500, "An internal error occurred. Please try again.")
        if kind in ("502", "503", "504"):
            self._count(kind)
            title = _GATEWAY_TITLES[int(kind)]
            body = (f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n"
                    f"</body>\r\n</html>\r\n").encode()
            return Response(int(kind), body, {"Content-Type": "text/html"})
        if kind == "reset":
            self._count(kind)
            return Response(0, None, {}, fault="reset")
        if kind == "slow":
            self._count(kind)
            time.sleep(self.slow_seconds)
        return None

    def finish(self, req, kind: Optional[Kind], resp):
        """Apply truncate/nonjson (this request's transient kind) and extra_field/missing_optional to a
        200 answer; other answers pass through."""
        if resp.status != 200 or not self.eligible(req) or not isinstance(resp.body, (dict, list)):
            return resp
        if self.rates.get("extra_field") or self.rates.get("missing_optional"):
            self._shape_objects(req, resp.body)
        if kind == "nonjson":
            self._count(kind)
            return Response(200, _NONJSON_BODY.format(title=self.page_title).encode(),
                            {**resp.headers, "Content-Type": "text/html; charset=utf-8"})
        if kind == "truncate":
            payload = json.dumps(resp.body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            if len(payload) >= 2:
                self._count(kind)
                return Response(200, payload[:len(payload) // 2],
                                {**resp.headers, "Content-Type": "application/json; charset=utf-8"})
        return resp

    # ---- data-shape faults -------------------------------------------------------------------
    def duplicate_page(self, page_key: str) -> bool:
        """Whether the list page identified by page_key (route, query hash, offset, pageSize) repeats an item."""
        rate = self.rates.get("duplicate", 0.0)
        return rate > 0 and _unit(self.seed, "duplicate", page_key) < rate

    def count_duplicate(self) -> None:
        self._count("duplicate")

    def _shape_objects(self, req, body: Any) -> None:
        if isinstance(body, dict) and "id" in body:
            objs = [body]
        elif isinstance(body, dict):
            objs = [o for v in body.values() if isinstance(v, list) for o in v if isinstance(o, dict)]
        else:
            return
        extra_rate = self.rates.get("extra_field", 0.0)
        miss_rate = self.rates.get("missing_optional", 0.0)
        done: set[int] = set()  # a duplicated item is the same dict twice: shape it once
        n_extra = n_miss = 0
        for obj in objs:
            if id(obj) in done:
                continue
            done.add(id(obj))
            if "id" in obj:
                key = str(obj["id"])
            elif isinstance(obj.get("user"), dict):  # a membership: the team comes from the path
                key = f"{req.path}|{obj['user'].get('id')}"
            else:
                continue
            if extra_rate > 0 and _unit(self.seed, "extra_field", key) < extra_rate:
                obj[EXTRA_FIELD] = {"kind": "injected by the simulator", "since": "2099-01-01T00:00:00.000Z",
                                    "values": [1, 2, 3]}
                n_extra += 1
            if miss_rate > 0 and _unit(self.seed, "missing_optional", key) < miss_rate:
                nulls = [k for k in OPTIONAL_KEYS if k in obj and obj[k] is None]
                if nulls:
                    obj.pop(nulls[int(_unit(self.seed, "missing_optional:key", key) * len(nulls))])
                    n_miss += 1
        self._count("extra_field", n_extra)
        self._count("missing_optional", n_miss)

