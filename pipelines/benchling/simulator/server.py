"""The Benchling API v2 simulator: a stdlib HTTP server over a Tenant.

Request flow (one place, so later issues can add fault injection):

    parse -> stats endpoints | /api/v2: latency sleep -> rate limit -> faults (roll) -> request_hook -> auth
          -> route -> faults (shape the 200 answer)

Fault injection (`faults=`, see faults.py) rolls its transient fault after the rate limiter; a 429/5xx/reset
replaces the answer, `slow` sleeps, truncate/nonjson/extra_field/missing_optional rework a 200 answer and
`duplicate` is decided in `_paginate`.

``request_hook(request) -> Response | None`` is called once per /api/v2 request after the rate limiter;
returning a Response replaces the normal answer (it still gets the rate-limit headers and is counted in
the stats). Everything touching the tenant runs under one lock.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
import secrets
import socket
import struct
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler
from typing import Any, Callable, Optional

from ...loopback import LoopbackServer
from .faults import FaultInjector
from .tenant import ARCHIVE_REASONS, Tenant, now_iso, parse_time

DEMO_API_KEY = "whsync-demo-key"
DEMO_CLIENT_ID = "whsync-demo-client"
API_PREFIX = "/api/v2"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
TOKEN_TTL_SECONDS = 900
SORTS = ("createdAt", "createdAt:asc", "createdAt:desc", "modifiedAt", "modifiedAt:asc", "modifiedAt:desc",
         "name", "name:asc", "name:desc")
_MIN_TIME = datetime.min.replace(tzinfo=timezone.utc)
_ARCHIVAL_KEYS = ("aaSequenceIds", "customEntityIds", "dnaSequenceIds", "entryIds", "folderIds", "mixtureIds",
                  "oligoIds", "protocolIds")


@dataclass
class Request:
    method: str
    path: str                      # path without the query string
    query: dict[str, list[str]]    # parse_qs result ('+' already decoded to a space)
    headers: dict[str, str]        # lower-cased names
    body: bytes = b""
    route: Optional[str] = None    # path template, e.g. /api/v2/teams/{team_id}/memberships
    params: dict[str, str] = field(default_factory=dict)

    def arg(self, name: str) -> Optional[str]:
        v = self.query.get(name)
        return v[-1] if v else None


@dataclass
class Response:
    status: int
    body: Any = None               # dict/list -> JSON; bytes -> as is; None -> empty
    headers: dict[str, str] = field(default_factory=dict)
    fault: Optional[str] = None    # "reset": the handler closes the connection without answering


class ApiError(Exception):
    def __init__(self, status: int, message: str, invalid_id: Optional[str] = None, type_: str = "invalid_request_error"):
        super().__init__(message)
        self.status, self.message, self.invalid_id, self.type = status, message, invalid_id, type_

    def response(self) -> Response:
        err: dict[str, Any] = {"type": self.type, "message": self.message, "userMessage": self.message}
        if self.invalid_id is not None:
            err["invalidId"] = self.invalid_id
        return Response(self.status, {"error": err})


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def not_found(kind: str, oid: str) -> ApiError:
    return ApiError(404, f"{kind} {oid} not found.", invalid_id=oid)


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
    def __init__(self, limit: int, window: float):
        self.limit, self.window = limit, window
        self.start: Optional[float] = None
        self.count = 0
        self._lock = threading.Lock()

    def hit(self) -> tuple[bool, dict[str, str]]:
        with self._lock:
            now = time.monotonic()
            if self.start is None or now >= self.start + self.window:
                self.start, self.count = now, 0
            allowed = self.count < self.limit
            if allowed:
                self.count += 1
            reset = max(0, math.ceil(self.start + self.window - now))
            return allowed, {"x-rate-limit-limit": str(self.limit),
                             "x-rate-limit-remaining": str(self.limit - self.count),
                             "x-rate-limit-reset": str(reset)}


# ---- routing ---------------------------------------------------------------------------------
_ROUTES: list[tuple[str, re.Pattern, str, str]] = []


def _route(method: str, template: str):
    pattern = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(API_PREFIX + template)) + "$"

    def deco(fn):
        _ROUTES.append((method, re.compile(pattern), API_PREFIX + template, fn.__name__))
        return fn
    return deco


def _public(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if not k.startswith("_")}


def _csv(value: Optional[str]) -> Optional[list[str]]:
    if value is None:
        return None
    return [x.strip() for x in value.split(",") if x.strip()]


class BenchlingSimulator(LoopbackServer):
    """A Benchling API v2 server on 127.0.0.1 over a Tenant (see the package README)."""

    def __init__(self, tenant: Tenant, api_key: str = DEMO_API_KEY, rate_limit: Any = "60/30",
                 latency_ms: float = 0, port: int = 0, host: str = "127.0.0.1",
                 client_id: str = DEMO_CLIENT_ID,
                 request_hook: Optional[Callable[[Request], Optional[Response]]] = None,
                 faults: Any = None, fault_seed: int = 0, slow_seconds: float = 5.0,
                 activity_forbidden: bool = False, admin_api_key: Optional[str] = None, task_polls: int = 0):
        self.tenant = tenant
        # user management needs a tenant admin's key: with `admin_api_key` set, the writes of `api_key`
        # (PATCH/POST/DELETE) answer 403 and only the admin key may write (both may read)
        self.admin_api_key = admin_api_key
        # a bulk task answers RUNNING to its first `task_polls` GETs, then its outcome
        self.task_polls = task_polls
        # user id -> message: an update of that user fails (PATCH: 400; in a bulk task: a per-item error)
        self.reject_user_updates: dict[str, str] = {}
        # the key may not read user activity (`GET /users/{id}/activity` answers 403, all else works)
        self.activity_forbidden = activity_forbidden
        self.api_key = api_key
        self.client_id = client_id
        rl = parse_rate_limit(rate_limit)
        self.limiter = FixedWindowLimiter(*rl) if rl else None
        self.latency_ms = float(latency_ms)
        self._init_server(host, port, _Handler)
        self.request_hook = request_hook
        self.faults = FaultInjector(faults, seed=fault_seed, slow_seconds=slow_seconds)
        self.lock = threading.RLock()
        self._stats_lock = threading.Lock()
        self._tokens: dict[str, float] = {}
        self._tasks: dict[str, dict] = {}
        self._tcache: dict[str, datetime] = {}
        self.reset_stats()
        self._reindex()

    @property
    def base_url(self) -> str:
        return self.root_url + API_PREFIX

    # ---- stats -------------------------------------------------------------------------------
    def stats(self) -> dict:
        with self._stats_lock:
            out = {"total": self._total, "by_status": dict(self._by_status), "by_path": dict(self._by_path),
                   "rate_limited": self._rate_limited}
        if self.faults.rates:  # only with faults= (the fault-free stats keep their shape)
            out["faults"] = self.faults.counts()
        return out

    def reset_stats(self) -> None:
        with getattr(self, "_stats_lock", threading.Lock()):
            self._total, self._rate_limited = 0, 0
            self._by_status: dict[str, int] = {}
            self._by_path: dict[str, int] = {}
        if hasattr(self, "faults"):
            self.faults.reset_counts()

    def _record(self, key: str, status: int, rate_limited: bool) -> None:
        with self._stats_lock:
            self._total += 1
            self._by_status[str(status)] = self._by_status.get(str(status), 0) + 1
            self._by_path[key] = self._by_path.get(key, 0) + 1
            if rate_limited:
                self._rate_limited += 1

    # ---- indexes (rebuilt on writes) ---------------------------------------------------------
    def _reindex(self) -> None:
        t = self.tenant
        self._by_id = {kind: {o["id"]: o for o in getattr(t, kind)}
                       for kind in ("users", "apps", "teams", "organizations", "projects", "folders")}
        self._members: dict[str, list[dict]] = {tid: [] for tid in self._by_id["teams"]}
        self._groups_of: dict[str, set[str]] = {}
        self._admin_of: dict[str, set[str]] = {}
        for m in t.memberships:
            self._members.setdefault(m["teamId"], []).append(m)
            uid = m["user"]["id"]
            org = (self._by_id["teams"].get(m["teamId"], {}).get("organization") or {}).get("id")
            self._groups_of.setdefault(uid, set()).update(x for x in (m["teamId"], org) if x)
            if m["role"] == "ADMIN":
                self._admin_of.setdefault(uid, set()).update(x for x in (m["teamId"], org) if x)
        self._children: dict[str, list[str]] = {}
        for f in t.folders:
            if f.get("parentFolderId"):
                self._children.setdefault(f["parentFolderId"], []).append(f["id"])
        self._cache: dict[tuple, list[dict]] = {}

    def _changed(self) -> None:
        self._reindex()

    def _time(self, value: Optional[str]) -> datetime:
        if not value:
            return _MIN_TIME
        dt = self._tcache.get(value)
        if dt is None:
            try:
                dt = parse_time(value)
            except ValueError:
                dt = _MIN_TIME
            self._tcache[value] = dt
        return dt

    def _obj_time(self, kind: str, obj: dict, which: str) -> datetime:
        key = which if kind == "apps" else "_" + which
        return self._time(obj.get(key))

    # ---- request entry point -----------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        """Answer one request (no network). Used by the HTTP handler and handy in unit tests."""
        if req.path in ("/_simulator/stats", "/_simulator/stats/reset"):
            if req.path == "/_simulator/stats" and req.method == "GET":
                return Response(200, self.stats())
            if req.path == "/_simulator/stats/reset" and req.method == "POST":
                self.reset_stats()
                return Response(200, self.stats())
            return ApiError(405, f"{req.method} not allowed on {req.path}").response()

        fn_name = self._match(req)
        key = f"{req.method} {req.route or '(unmatched)'}"
        if self.latency_ms > 0:
            time.sleep(self.latency_ms / 1000.0)
        rl_headers: dict[str, str] = {}
        limited = False
        if req.path.startswith(API_PREFIX) and self.limiter is not None:
            allowed, rl_headers = self.limiter.hit()
            limited = not allowed
        if limited:
            resp = Response(429, {"error": {"message": "Rate limit exceeded.", "type": "invalid_request_error",
                                            "userMessage": "Rate limit exceeded."}})
        else:
            fault = self.faults.roll(req)
            resp = self.faults.respond(fault, rl_headers)
            if resp is not None:  # an injected 429/5xx/reset: its own rate headers win
                rl_headers = {**rl_headers, **resp.headers}
            else:
                resp = self.request_hook(req) if self.request_hook else None
                if resp is None:
                    resp = self.faults.finish(req, fault, self._dispatch(req, fn_name))
        resp.headers = {**resp.headers, **rl_headers}
        self._record(key, resp.status, limited)
        return resp

    def _match(self, req: Request) -> Optional[str]:
        path_ok = False
        for method, rx, template, fn_name in _ROUTES:
            m = rx.match(req.path)
            if m:
                path_ok = True
                if method == req.method:
                    req.route, req.params = template, {k: urllib.parse.unquote(v) for k, v in m.groupdict().items()}
                    return fn_name
        if path_ok:
            req.route = "(method not allowed)"
        return None

    def _dispatch(self, req: Request, fn_name: Optional[str]) -> Response:
        try:
            if fn_name == "token":
                return self.token(req)
            who = self._authenticate(req)
            if (who == "reader" and self.admin_api_key is not None and req.method in ("POST", "PATCH", "DELETE")):
                raise ApiError(403, "You do not have permission to manage users: user management needs a tenant "
                                    "admin's API key.", type_="invalid_request_error")
            if fn_name is None:
                if req.route == "(method not allowed)":
                    raise ApiError(405, f"{req.method} is not allowed on {req.path}.")
                raise ApiError(404, f"No such endpoint: {req.method} {req.path}.")
            with self.lock:
                return getattr(self, fn_name)(req, **req.params)
        except ApiError as e:
            return e.response()

    def _authenticate(self, req: Request) -> str:
        """'admin' (the admin key) or 'reader' (the key, an OAuth token); ApiError 401 otherwise."""
        auth = req.headers.get("authorization", "")
        scheme, _, cred = auth.partition(" ")
        if scheme.lower() == "basic":
            try:
                user, sep, password = base64.b64decode(cred.strip(), validate=True).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError, ValueError):
                user, sep, password = "", "", "x"
            if sep and password == "" and self.admin_api_key is not None and user == self.admin_api_key:
                return "admin"
            if sep and user == self.api_key and password == "":
                return "reader"
        elif scheme.lower() == "bearer":
            exp = self._tokens.get(cred.strip())
            if exp is not None and exp > time.time():
                return "reader"
        raise ApiError(401, "Authentication failed: send the API key as the HTTP Basic username with an empty "
                            "password, or a valid Bearer token from POST /api/v2/token.")

    # ---- helpers ----------------------------------------------------------------------------
    def _json_body(self, req: Request) -> dict:
        try:
            body = json.loads(req.body.decode("utf-8") or "null")
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise bad_request(f"Request body is not valid JSON: {e}") from None
        if not isinstance(body, dict):
            raise bad_request("Request body must be a JSON object.")
        return body

    def _page_size(self, req: Request) -> int:
        raw = req.arg("pageSize")
        if raw is None or raw == "":
            return DEFAULT_PAGE_SIZE
        if not re.fullmatch(r"[+-]?\d+", raw.strip()):
            raise bad_request(f"Invalid pageSize {raw!r}: must be an integer between 1 and {MAX_PAGE_SIZE}.")
        n = int(raw)
        if n < 1 or n > MAX_PAGE_SIZE:
            raise bad_request(f"Invalid pageSize {raw}: must be between 1 and {MAX_PAGE_SIZE}.")
        return n

    def _sort(self, req: Request, default: str) -> str:
        s = req.arg("sort")
        if s is None or s == "":
            return default
        if s not in SORTS:
            raise bad_request(f"Invalid sort {s!r}: valid values are {', '.join(SORTS)}.")
        return s

    def _sorted(self, kind: str, items: list[dict], sort: str) -> list[dict]:
        key = ("sorted", kind, sort, id(items))
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        field_, _, direction = sort.partition(":")
        if field_ == "name":
            out = sorted(items, key=lambda o: (str(o.get("name", "")).casefold(), o["id"]))
            desc = direction == "desc"
        else:
            out = sorted(items, key=lambda o: (self._obj_time(kind, o, field_), o["id"]))
            desc = direction != "asc"  # modifiedAt / createdAt without direction: most recent first
        if desc:
            out.reverse()
        self._cache[key] = out
        return out

    def _paginate(self, req: Request, collection_key: str, kind: str, items: list[dict], sort: Optional[str],
                  filters: list[tuple[str, Callable[[dict], bool]]], filter_key: tuple) -> Response:
        page_size = self._page_size(req)
        fhash = hashlib.sha1(json.dumps([req.route, req.params, sort, filter_key], default=str)
                             .encode()).hexdigest()[:12]
        offset = self._decode_token(req.arg("nextToken"), fhash)
        ckey = ("filtered", fhash)
        rows = self._cache.get(ckey)
        if rows is None:
            rows = self._sorted(kind, items, sort) if sort else items
            for _, pred in filters:
                rows = [o for o in rows if pred(o)]
            if len(self._cache) > 256:
                self._cache.clear()
            self._cache[ckey] = rows
        page = rows[offset:offset + page_size]
        end = offset + page_size
        if (page_size >= 2 and page and self.faults.rates.get("duplicate")
                and self.faults.duplicate_page(f"{req.path}|{fhash}|{offset}|{page_size}")):
            # Fault `duplicate`: as if a row had been inserted before the cursor, the page starts one row
            # early, so it repeats the previous page's last row (the first page repeats its own first row).
            # The next page starts right after it: nothing is skipped.
            page = [rows[0]] + rows[0:page_size - 1] if offset == 0 else rows[offset - 1:offset - 1 + page_size]
            end = offset + page_size - 1
            self.faults.count_duplicate()
        next_token = self._encode_token(end, fhash) if end < len(rows) else ""
        resp = Response(200, {collection_key: [_public(o) for o in page], "nextToken": next_token})
        if kind == "apps":
            resp.headers["Result-Count"] = str(len(rows))
        return resp

    @staticmethod
    def _encode_token(offset: int, fhash: str) -> str:
        raw = json.dumps({"o": offset, "h": fhash}, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @staticmethod
    def _decode_token(token: Optional[str], fhash: str) -> int:
        if token is None or token == "":
            return 0
        try:
            data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            offset = data["o"]
            ok = isinstance(offset, int) and offset >= 0 and data["h"] == fhash
        except (ValueError, TypeError, KeyError, binascii.Error):
            ok = False
        if not ok:
            raise bad_request(f"Invalid nextToken {token!r}: not a token issued for this query.")
        return offset

    def _ids_filter(self, req: Request, kind: str, filters: list, fkey: list) -> None:
        ids = _csv(req.arg("ids"))
        if ids is None:
            return
        index = self._by_id[kind]
        invalid = [i for i in ids if i not in index]
        if invalid:
            raise bad_request(f"Invalid ids: {', '.join(invalid)}")
        wanted = set(ids)
        filters.append(("ids", lambda o: o["id"] in wanted))
        fkey.append(("ids", sorted(wanted)))

    def _name_filters(self, req: Request, filters: list, fkey: list, include_names=True) -> None:
        name = req.arg("name")
        if name is not None:
            filters.append(("name", lambda o: o.get("name") == name))
            fkey.append(("name", name))
        inc = req.arg("nameIncludes")
        if inc is not None:
            low = inc.casefold()
            filters.append(("nameIncludes", lambda o: low in str(o.get("name", "")).casefold()))
            fkey.append(("nameIncludes", inc))
        if not include_names:
            return
        any_of = _csv(req.arg("names.anyOf"))
        if any_of is not None:
            self._max100("names.anyOf", any_of)
            s = {x.casefold() for x in any_of}
            filters.append(("names.anyOf", lambda o: str(o.get("name", "")).casefold() in s))
            fkey.append(("names.anyOf", sorted(s)))
        any_cs = _csv(req.arg("names.anyOf.caseSensitive"))
        if any_cs is not None:
            self._max100("names.anyOf.caseSensitive", any_cs)
            s2 = set(any_cs)
            filters.append(("names.anyOf.cs", lambda o: o.get("name") in s2))
            fkey.append(("names.anyOf.caseSensitive", sorted(s2)))

    @staticmethod
    def _max100(name: str, values: list) -> None:
        if len(values) > 100:
            raise bad_request(f"{name} accepts at most 100 values, got {len(values)}.")

    def _modified_filter(self, req: Request, kind: str, filters: list, fkey: list) -> None:
        raw = req.arg("modifiedAt")
        if raw is None or raw.strip() == "":
            return
        conds = parse_modified_at(raw)
        ops = {">": lambda a, b: a > b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b}

        def pred(o: dict) -> bool:
            v = o.get("modifiedAt" if kind == "apps" else "_modifiedAt")
            if not v:
                return False
            dt = self._time(v)
            return all(ops[op](dt, bound) for op, bound in conds)
        filters.append(("modifiedAt", pred))
        fkey.append(("modifiedAt", [(op, b.isoformat()) for op, b in conds]))

    def _group_filter(self, req: Request, param: str, index: dict[str, set[str]], filters: list, fkey: list) -> None:
        groups = _csv(req.arg(param))
        if groups is None:
            return
        need = set(groups)
        filters.append((param, lambda o: need <= index.get(o["id"], set())))
        fkey.append((param, sorted(need)))

    def _archive_filter(self, req: Request, filters: list, fkey: list) -> None:
        reason = req.arg("archiveReason") or "NOT_ARCHIVED"
        if reason == "NOT_ARCHIVED":
            pred = lambda o: o.get("archiveRecord") is None  # noqa: E731
        elif reason == "ANY_ARCHIVED":
            pred = lambda o: o.get("archiveRecord") is not None  # noqa: E731
        elif reason == "ANY_ARCHIVED_OR_NOT_ARCHIVED":
            pred = None
        else:
            pred = lambda o: (o.get("archiveRecord") or {}).get("reason") == reason  # noqa: E731
        if pred is not None:
            filters.append(("archiveReason", pred))
        fkey.append(("archiveReason", reason))

    def _get(self, kind: str, label: str, oid: str) -> dict:
        obj = self._by_id[kind].get(oid)
        if obj is None:
            raise not_found(label, oid)
        return obj

    def _touch(self, obj: dict, now: Optional[str] = None) -> None:
        obj["_modifiedAt"] = now or now_iso()

    # ---- endpoints: token -------------------------------------------------------------------
    @_route("POST", "/token")
    def token(self, req: Request) -> Response:
        form = urllib.parse.parse_qs(req.body.decode("utf-8", "replace"), keep_blank_values=True)
        f = {k: v[-1] for k, v in form.items()}
        client_id, client_secret = f.get("client_id"), f.get("client_secret")
        scheme, _, cred = req.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "basic":
            try:
                cid, _, csec = base64.b64decode(cred.strip(), validate=True).decode("utf-8").partition(":")
                client_id, client_secret = urllib.parse.unquote(cid), urllib.parse.unquote(csec)
            except (binascii.Error, UnicodeDecodeError, ValueError):
                pass

        def oauth_error(status: int, type_: str, msg: str) -> Response:
            return Response(status, {"error": {"type": type_, "message": msg, "userMessage": msg}})
        grant = f.get("grant_type")
        if not grant:
            return oauth_error(400, "invalid_request", "Missing grant_type.")
        if grant != "client_credentials":
            return oauth_error(400, "unsupported_grant_type", f"Unsupported grant_type {grant!r}.")
        if client_id != self.client_id or client_secret != self.api_key:
            return oauth_error(401, "invalid_client", "Invalid client credentials.")
        tok = secrets.token_urlsafe(32)
        now = time.time()
        self._tokens = {k: v for k, v in self._tokens.items() if v > now}
        self._tokens[tok] = now + TOKEN_TTL_SECONDS
        return Response(200, {"access_token": tok, "token_type": "Bearer", "expires_in": TOKEN_TTL_SECONDS})

    # ---- endpoints: users -------------------------------------------------------------------
    @_route("GET", "/users")
    def list_users(self, req: Request) -> Response:
        filters: list = []
        fkey: list = []
        sort = self._sort(req, "modifiedAt:desc")
        self._ids_filter(req, "users", filters, fkey)
        self._name_filters(req, filters, fkey)
        self._modified_filter(req, "users", filters, fkey)
        self._group_filter(req, "memberOf", self._groups_of, filters, fkey)
        self._group_filter(req, "adminOf", self._admin_of, filters, fkey)
        handles = _csv(req.arg("handles"))
        if handles is not None:
            hs = set(handles)
            filters.append(("handles", lambda o: o.get("handle") in hs))
            fkey.append(("handles", sorted(hs)))
        emails = _csv(req.arg("email.anyOf"))
        if emails is not None:
            self._max100("email.anyOf", emails)
            es = {e.casefold() for e in emails}
            filters.append(("email", lambda o: str(o.get("email", "")).casefold() in es))
            fkey.append(("email.anyOf", sorted(es)))
        return self._paginate(req, "users", "users", self.tenant.users, sort, filters, tuple(map(str, fkey)))

    @_route("GET", "/users/{user_id}")
    def get_user(self, req: Request, user_id: str) -> Response:
        return Response(200, _public(self._get("users", "User", user_id)))

    @_route("GET", "/users/{user_id}/activity")
    def get_user_activity(self, req: Request, user_id: str) -> Response:
        if self.activity_forbidden:
            raise ApiError(403, "You do not have permission to read user activity.", type_="invalid_request_error")
        u = self._get("users", "User", user_id)
        return Response(200, {"userId": u["id"], "lastSeen": u.get("_lastSeen")})

    _USER_CREATE = {"name", "email", "handle"}
    _USER_UPDATE = {"name", "email", "handle", "isSuspended"}

    def _check_user_fields(self, body: dict, allowed: set, required: set, where: str) -> None:
        extra = sorted(set(body) - allowed)
        if extra:
            raise bad_request(f"{where}: unknown field(s) {', '.join(extra)}.")
        missing = sorted(required - set(body))
        if missing:
            raise bad_request(f"{where}: missing required field(s) {', '.join(missing)}.")
        for k, v in body.items():
            if k == "isSuspended":
                if not isinstance(v, bool):
                    raise bad_request(f"{where}: isSuspended must be a boolean.")
            elif k != "id" and (not isinstance(v, str) or not v):
                raise bad_request(f"{where}: {k} must be a non-empty string.")

    def _new_user(self, body: dict, now: str, taken: set[str]) -> dict:
        if body["handle"] in taken:
            raise bad_request(f"Handle {body['handle']!r} is already taken.")
        taken.add(body["handle"])
        alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        while True:
            uid = "ent_" + "".join(secrets.choice(alnum) for _ in range(8))
            if all(uid not in idx for idx in self._by_id.values()):
                break
        return {"id": uid, "name": body["name"], "handle": body["handle"], "email": body["email"],
                "isSuspended": False, "apiKeyLastChangedAt": None, "passwordLastChangedAt": None,
                "_createdAt": now, "_modifiedAt": now, "_lastSeen": None}

    def _apply_user_update(self, user: dict, body: dict, now: str) -> None:
        if "handle" in body and body["handle"] != user["handle"]:
            if any(u["handle"] == body["handle"] for u in self.tenant.users):
                raise bad_request(f"Handle {body['handle']!r} is already taken.")
        for k in ("name", "email", "handle", "isSuspended"):
            if k in body:
                user[k] = body[k]
        self._touch(user, now)
        if "name" in body or "handle" in body:
            for m in self.tenant.memberships:
                if m["user"]["id"] == user["id"]:
                    m["user"] = {"id": user["id"], "handle": user["handle"], "name": user["name"]}
            for p in self.tenant.projects:
                if p["owner"].get("id") == user["id"]:
                    p["owner"] = {"id": user["id"], "handle": user["handle"], "name": user["name"]}

    @_route("POST", "/users")
    def create_user(self, req: Request) -> Response:
        body = self._json_body(req)
        self._check_user_fields(body, self._USER_CREATE, self._USER_CREATE, "UserCreate")
        user = self._new_user(body, now_iso(), {u["handle"] for u in self.tenant.users})
        self.tenant.users.append(user)
        self._changed()
        return Response(201, _public(user))

    @_route("PATCH", "/users/{user_id}")
    def update_user(self, req: Request, user_id: str) -> Response:
        user = self._get("users", "User", user_id)
        body = self._json_body(req)
        self._check_user_fields(body, self._USER_UPDATE, set(), "UserUpdate")
        if user_id in self.reject_user_updates:
            raise bad_request(self.reject_user_updates[user_id])
        self._apply_user_update(user, body, now_iso())
        self._changed()
        return Response(200, _public(user))

    def _task(self, task: dict) -> Response:
        tid = str(uuid.uuid4())  # the spec's example task id is a UUID
        self._tasks[tid] = {**task, "_polls_left": self.task_polls}
        return Response(202, {"taskId": tid})

    @_route("POST", "/users:bulk-create")
    def bulk_create_users(self, req: Request) -> Response:
        body = self._json_body(req)
        users = body.get("users")
        if set(body) - {"users"} or not isinstance(users, list):
            raise bad_request("UserBulkCreateRequest must be {\"users\": [UserCreate, ...]}.")
        for i, u in enumerate(users):
            if not isinstance(u, dict):
                raise bad_request(f"users[{i}] must be an object.")
            self._check_user_fields(u, self._USER_CREATE, self._USER_CREATE, f"users[{i}]")
        now, taken = now_iso(), {u["handle"] for u in self.tenant.users}
        created = [self._new_user(u, now, taken) for u in users]
        self.tenant.users.extend(created)
        self._changed()
        return self._task({"status": "SUCCEEDED", "response": {"users": [_public(u) for u in created]}})

    @_route("POST", "/users:bulk-update")
    def bulk_update_users(self, req: Request) -> Response:
        body = self._json_body(req)
        users = body.get("users")
        if set(body) - {"users"} or not isinstance(users, list):
            raise bad_request("UserBulkUpdateRequest must be {\"users\": [UserBulkUpdate, ...]}.")
        for i, u in enumerate(users):
            if not isinstance(u, dict) or not isinstance(u.get("id"), str):
                raise bad_request(f"users[{i}] must be an object with an id.")
            self._check_user_fields(u, self._USER_UPDATE | {"id"}, {"id"}, f"users[{i}]")
        rejected = [(i, u["id"]) for i, u in enumerate(users) if u["id"] in self.reject_user_updates]
        if rejected:
            # per-item errors. ASSUMPTION (the reference marks it uncertain): a bulk task is all or nothing,
            # so a FAILED task applied none of its items; `errors` lists the failed items by index
            return self._task({"status": "FAILED", "message": f"{len(rejected)} of {len(users)} users could not be updated.",
                               "errors": [{"index": i, "message": self.reject_user_updates[uid]} for i, uid in rejected]})
        unknown = [u["id"] for u in users if u["id"] not in self._by_id["users"]]
        if unknown:
            msg = f"Invalid ids: {', '.join(unknown)}"
            return self._task({"status": "FAILED", "message": msg,
                               "errors": [{"index": i, "message": f"User {u['id']} not found."}
                                          for i, u in enumerate(users) if u["id"] in unknown]})
        now = now_iso()
        updated = []
        for u in users:
            user = self._by_id["users"][u["id"]]
            self._apply_user_update(user, {k: v for k, v in u.items() if k != "id"}, now)
            updated.append(user)
        self._changed()
        return self._task({"status": "SUCCEEDED", "response": {"users": [_public(u) for u in updated]}})

    @_route("GET", "/tasks/{task_id}")
    def get_task(self, req: Request, task_id: str) -> Response:
        task = self._tasks.get(task_id)
        if task is None:
            raise not_found("Task", task_id)
        if task["_polls_left"] > 0:
            task["_polls_left"] -= 1
            return Response(200, {"status": "RUNNING"})
        return Response(200, _public(task))

    # ---- endpoints: apps --------------------------------------------------------------------
    @_route("GET", "/apps")
    def list_apps(self, req: Request) -> Response:
        filters: list = []
        fkey: list = []
        sort = self._sort(req, "modifiedAt")
        self._ids_filter(req, "apps", filters, fkey)
        self._name_filters(req, filters, fkey)
        self._modified_filter(req, "apps", filters, fkey)
        self._group_filter(req, "memberOf", self._groups_of, filters, fkey)
        self._group_filter(req, "adminOf", self._admin_of, filters, fkey)
        creators = _csv(req.arg("creatorIds"))
        if creators is not None:
            cs = set(creators)
            filters.append(("creatorIds", lambda o: (o.get("creator") or {}).get("id") in cs))
            fkey.append(("creatorIds", sorted(cs)))
        appdef = req.arg("appDefinitionId")
        if appdef is not None:
            filters.append(("appDefinitionId", lambda o: (o.get("appDefinition") or {}).get("id") == appdef))
            fkey.append(("appDefinitionId", appdef))
        return self._paginate(req, "apps", "apps", self.tenant.apps, sort, filters, tuple(map(str, fkey)))

    @_route("GET", "/apps/{app_id}")
    def get_app(self, req: Request, app_id: str) -> Response:
        return Response(200, _public(self._get("apps", "App", app_id)))

    # ---- endpoints: teams, memberships, organizations -----------------------------------------
    @_route("GET", "/teams")
    def list_teams(self, req: Request) -> Response:
        filters: list = []
        fkey: list = []
        sort = self._sort(req, "modifiedAt:desc")
        self._ids_filter(req, "teams", filters, fkey)
        self._name_filters(req, filters, fkey)
        self._modified_filter(req, "teams", filters, fkey)
        org = req.arg("organizationId")
        if org is not None:
            filters.append(("organizationId", lambda o: (o.get("organization") or {}).get("id") == org))
            fkey.append(("organizationId", org))
        for param, admins in (("hasMembers", False), ("hasAdmins", True)):
            ids = _csv(req.arg(param))
            if ids is not None:
                need = set(ids)

                def pred(o, need=need, admins=admins):
                    have = {m["user"]["id"] for m in self._members.get(o["id"], ())
                            if not admins or m["role"] == "ADMIN"}
                    return need <= have
                filters.append((param, pred))
                fkey.append((param, sorted(need)))
        return self._paginate(req, "teams", "teams", self.tenant.teams, sort, filters, tuple(map(str, fkey)))

    @_route("GET", "/teams/{team_id}")
    def get_team(self, req: Request, team_id: str) -> Response:
        return Response(200, _public(self._get("teams", "Team", team_id)))

    @_route("GET", "/teams/{team_id}/memberships")
    def list_team_memberships(self, req: Request, team_id: str) -> Response:
        self._get("teams", "Team", team_id)
        filters: list = []
        fkey: list = []
        role = req.arg("role")
        if role is not None:
            filters.append(("role", lambda m: m["role"] == role))
            fkey.append(("role", role))
        members = self._members.get(team_id, [])
        resp = self._paginate(req, "memberships", "memberships", members, None, filters, tuple(map(str, fkey)))
        resp.body["memberships"] = [_membership(m) for m in resp.body["memberships"]]
        return resp

    def _find_membership(self, team_id: str, user_id: str) -> dict:
        self._get("teams", "Team", team_id)
        for m in self._members.get(team_id, ()):
            if m["user"]["id"] == user_id:
                return m
        raise not_found("Membership of", user_id)

    @_route("GET", "/teams/{team_id}/memberships/{user_id}")
    def get_team_membership(self, req: Request, team_id: str, user_id: str) -> Response:
        return Response(200, _membership(self._find_membership(team_id, user_id)))

    @_route("POST", "/teams/{team_id}/memberships")
    def create_team_membership(self, req: Request, team_id: str) -> Response:
        team = self._get("teams", "Team", team_id)
        body = self._json_body(req)
        uid, role = body.get("userId"), body.get("role", "MEMBER")
        if set(body) - {"userId", "role"}:
            raise bad_request(f"MembershipCreate: unknown field(s) {', '.join(sorted(set(body) - {'userId', 'role'}))}.")
        if role not in ("ADMIN", "MEMBER"):
            raise bad_request(f"Invalid role {role!r}: must be ADMIN or MEMBER.")
        principal = self._by_id["users"].get(uid) or self._by_id["apps"].get(uid)
        if not isinstance(uid, str) or principal is None:
            raise bad_request(f"Invalid userId {uid!r}: not a user or app of this tenant.")
        if any(m["user"]["id"] == uid for m in self._members.get(team_id, ())):
            raise bad_request(f"{uid} is already a member of {team_id}.")
        m = {"teamId": team_id, "user": {"id": uid, "handle": principal.get("handle", uid), "name": principal["name"]},
             "role": role}
        self.tenant.memberships.append(m)
        self._touch(team)
        self._changed()
        return Response(201, _membership(m))

    @_route("PATCH", "/teams/{team_id}/memberships/{user_id}")
    def update_team_membership(self, req: Request, team_id: str, user_id: str) -> Response:
        m = self._find_membership(team_id, user_id)
        body = self._json_body(req)
        role = body.get("role")
        if set(body) - {"role"} or role not in ("ADMIN", "MEMBER"):
            raise bad_request(f"MembershipUpdate must be {{\"role\": \"ADMIN\"|\"MEMBER\"}}, got {body!r}.")
        m["role"] = role
        self._touch(self._by_id["teams"][team_id])
        self._changed()
        return Response(200, _membership(m))

    @_route("DELETE", "/teams/{team_id}/memberships/{user_id}")
    def delete_team_membership(self, req: Request, team_id: str, user_id: str) -> Response:
        m = self._find_membership(team_id, user_id)
        self.tenant.memberships.remove(m)
        self._touch(self._by_id["teams"][team_id])
        self._changed()
        return Response(204, None)

    @_route("GET", "/organizations")
    def list_organizations(self, req: Request) -> Response:
        filters: list = []
        fkey: list = []
        sort = self._sort(req, "modifiedAt:desc")
        self._ids_filter(req, "organizations", filters, fkey)
        self._name_filters(req, filters, fkey)
        self._modified_filter(req, "organizations", filters, fkey)
        return self._paginate(req, "organizations", "organizations", self.tenant.organizations, sort, filters,
                              tuple(map(str, fkey)))

    @_route("GET", "/organizations/{organization_id}")
    def get_organization(self, req: Request, organization_id: str) -> Response:
        return Response(200, _public(self._get("organizations", "Organization", organization_id)))

    # ---- endpoints: projects and folders -------------------------------------------------------
    @_route("GET", "/projects")
    def list_projects(self, req: Request) -> Response:
        filters: list = []
        fkey: list = []
        sort = self._sort(req, "modifiedAt")
        self._ids_filter(req, "projects", filters, fkey)
        self._archive_filter(req, filters, fkey)
        name = req.arg("name")
        if name is not None:
            filters.append(("name", lambda o: o.get("name") == name))
            fkey.append(("name", name))
        return self._paginate(req, "projects", "projects", self.tenant.projects, sort, filters, tuple(map(str, fkey)))

    @_route("GET", "/projects/{project_id}")
    def get_project(self, req: Request, project_id: str) -> Response:
        return Response(200, _public(self._get("projects", "Project", project_id)))

    @_route("GET", "/folders")
    def list_folders(self, req: Request) -> Response:
        filters: list = []
        fkey: list = []
        sort = self._sort(req, "name")
        self._ids_filter(req, "folders", filters, fkey)
        self._archive_filter(req, filters, fkey)
        self._name_filters(req, filters, fkey, include_names=False)
        parent = req.arg("parentFolderId")
        if parent is not None:
            want = None if parent == "NO_PARENT" else parent
            filters.append(("parentFolderId", lambda o: o.get("parentFolderId") == want))
            fkey.append(("parentFolderId", parent))
        project = req.arg("projectId")
        if project is not None:
            filters.append(("projectId", lambda o: o.get("projectId") == project))
            fkey.append(("projectId", project))
        return self._paginate(req, "folders", "folders", self.tenant.folders, sort, filters, tuple(map(str, fkey)))

    @_route("GET", "/folders/{folder_id}")
    def get_folder(self, req: Request, folder_id: str) -> Response:
        return Response(200, _public(self._get("folders", "Folder", folder_id)))

    def _archive_body(self, req: Request, ids_key: str, kind: str, archive: bool) -> tuple[list[str], Optional[str]]:
        body = self._json_body(req)
        allowed = {ids_key, "reason"} if archive else {ids_key}
        extra = sorted(set(body) - allowed)
        if extra:
            raise bad_request(f"Unknown field(s) {', '.join(extra)}.")
        ids = body.get(ids_key)
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise bad_request(f"{ids_key} must be a list of ids.")
        reason = body.get("reason")
        if archive and reason not in ARCHIVE_REASONS:
            raise bad_request(f"Invalid reason {reason!r}: must be one of {', '.join(ARCHIVE_REASONS)}.")
        invalid = [i for i in ids if i not in self._by_id[kind]]
        if invalid:
            raise bad_request(f"Invalid ids: {', '.join(invalid)}")
        return ids, reason

    def _descendants(self, folder_id: str) -> list[str]:
        out, stack = [], list(self._children.get(folder_id, ()))
        while stack:
            fid = stack.pop()
            out.append(fid)
            stack.extend(self._children.get(fid, ()))
        return out

    def _archival(self, project_ids: Optional[list[str]], folder_ids: list[str]) -> dict:
        body: dict[str, list[str]] = {k: [] for k in _ARCHIVAL_KEYS}
        body["folderIds"] = folder_ids
        if project_ids is not None:
            body["projectIds"] = project_ids
        return body

    @_route("POST", "/projects:archive")
    def archive_projects(self, req: Request) -> Response:
        ids, reason = self._archive_body(req, "projectIds", "projects", True)
        now, folders = now_iso(), []
        wanted = set(ids)
        for pid in ids:
            p = self._by_id["projects"][pid]
            p["archiveRecord"] = {"reason": reason}
            self._touch(p, now)
        for f in self.tenant.folders:
            if f["projectId"] in wanted and f.get("archiveRecord") is None:
                f["archiveRecord"] = {"reason": reason}
                f["_archivedBy"] = f["projectId"]
                self._touch(f, now)
                folders.append(f["id"])
        self._changed()
        return Response(200, self._archival(ids, folders))

    @_route("POST", "/projects:unarchive")
    def unarchive_projects(self, req: Request) -> Response:
        ids, _ = self._archive_body(req, "projectIds", "projects", False)
        now, folders = now_iso(), []
        wanted = set(ids)
        for pid in ids:
            p = self._by_id["projects"][pid]
            p["archiveRecord"] = None
            self._touch(p, now)
        for f in self.tenant.folders:
            if f.get("_archivedBy") in wanted and f["projectId"] in wanted:
                f["archiveRecord"] = None
                f.pop("_archivedBy", None)
                self._touch(f, now)
                folders.append(f["id"])
        self._changed()
        return Response(200, self._archival(ids, folders))

    @_route("POST", "/folders:archive")
    def archive_folders(self, req: Request) -> Response:
        ids, reason = self._archive_body(req, "folderIds", "folders", True)
        now, changed = now_iso(), list(ids)
        for fid in ids:
            f = self._by_id["folders"][fid]
            f["archiveRecord"] = {"reason": reason}
            f.pop("_archivedBy", None)
            self._touch(f, now)
            for did in self._descendants(fid):
                d = self._by_id["folders"][did]
                if d.get("archiveRecord") is None:
                    d["archiveRecord"] = {"reason": reason}
                    d["_archivedBy"] = fid
                    self._touch(d, now)
                    changed.append(did)
        self._changed()
        return Response(200, self._archival(None, changed))

    @_route("POST", "/folders:unarchive")
    def unarchive_folders(self, req: Request) -> Response:
        ids, _ = self._archive_body(req, "folderIds", "folders", False)
        now, changed = now_iso(), list(ids)
        for fid in ids:
            f = self._by_id["folders"][fid]
            f["archiveRecord"] = None
            f.pop("_archivedBy", None)
            self._touch(f, now)
            for did in self._descendants(fid):
                d = self._by_id["folders"][did]
                if d.get("_archivedBy") == fid:
                    d["archiveRecord"] = None
                    d.pop("_archivedBy", None)
                    self._touch(d, now)
                    changed.append(did)
        self._changed()
        return Response(200, self._archival(None, changed))


def _membership(m: dict) -> dict:
    return {"user": dict(m["user"]), "role": m["role"]}


_COND = re.compile(r"^\s*(>=|<=|>|<)\s*\"?([^\"\s]+)\"?\s*$")


def parse_modified_at(raw: str) -> list[tuple[str, datetime]]:
    """'> 2022-03-01', '< X', '> X AND < Y' (also >=, <=) -> [(op, utc datetime)]. Raises ApiError 400."""
    parts = re.split(r"\s+AND\s+", raw.strip(), flags=re.IGNORECASE)
    if len(parts) > 2:
        raise bad_request(f"Invalid modifiedAt {raw!r}: at most two conditions joined by AND.")
    out = []
    for part in parts:
        m = _COND.match(part)
        if not m:
            raise bad_request(f"Invalid modifiedAt {raw!r}: expected '> TIME', '< TIME' or '> TIME AND < TIME'.")
        try:
            out.append((m.group(1), parse_time(m.group(2))))
        except ValueError:
            raise bad_request(f"Invalid modifiedAt {raw!r}: {m.group(2)!r} is not an RFC 3339 date or datetime.") from None
    return out


class _Handler(BaseHTTPRequestHandler):
    simulator: BenchlingSimulator
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "whsync-benchling-simulator"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _serve(self) -> None:
        split = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        req = Request(method=self.command, path=split.path,
                      query=urllib.parse.parse_qs(split.query, keep_blank_values=True),
                      headers={k.lower(): v for k, v in self.headers.items()}, body=body)
        try:
            resp = self.simulator.handle(req)
        except Exception as e:  # never kill the connection without an answer
            resp = Response(500, {"error": {"type": "server_error", "message": repr(e), "userMessage": "Internal error"}})
        if resp.fault == "reset":  # injected: RST instead of an answer
            self.close_connection = True
            try:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
            except OSError:
                pass
            return
        if resp.body is None:
            payload = b""
        elif isinstance(resp.body, bytes):
            payload = resp.body
        else:
            payload = json.dumps(resp.body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self.send_response(resp.status)
        headers = {k.lower(): v for k, v in resp.headers.items()}
        if payload and "content-type" not in headers:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        for k, v in resp.headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        try:
            self.end_headers()
            if payload and self.command != "HEAD":
                self.wfile.write(payload)
        except OSError:  # the client went away (e.g. it timed out on a `slow` fault)
            self.close_connection = True

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _serve
