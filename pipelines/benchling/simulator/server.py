"""The Benchling API v2 simulator: a stdlib HTTP server over a Tenant, built on the simulator kit
(`pipelines/simkit/`). This module holds the request flow, authentication and stats; each resource's
endpoints are a module of their own (users.py, apps.py, teams.py, organizations.py, projects.py, folders.py,
tasks.py; paging and filters in paging.py), mixed into `BenchlingSimulator`.

Request flow (one place):

    parse -> stats endpoints | /api/v2: rate limit -> faults (roll) -> request_hook -> auth -> route
          -> faults (shape the 200 answer) -> encode -> latency (answered `latency_ms` after arrival)

The rate limiter and fault injection are the kit's (`simkit.gate.admit`, `simkit.faults`: `faults=` or
`sim.faults.fail_next(n, status)`); a 429/5xx/reset replaces the answer, `slow` sleeps,
truncate/nonjson/extra_field/missing_optional rework a 200 answer and `duplicate` is decided in `_paginate`.
Authentication is the kit's `simkit.auth.AuthCheck` (HTTP Basic with the API key as the username and an
empty password, or a Bearer token from `POST /token`); `_refuse` is Benchling's 401/403.

``request_hook(request) -> Response | None`` is called once per /api/v2 request after the rate limiter;
returning a Response replaces the normal answer (it still gets the rate-limit headers and is counted in
the stats). Everything touching the tenant runs under one lock.
"""
from __future__ import annotations

import secrets
import threading
import time
import urllib.parse
from datetime import datetime, timezone
from typing import Any, Callable, Optional

from ...loopback import LoopbackServer
from ...simkit.auth import AuthCheck, Basic, Denied, Refusal, Token, basic_credentials
from ...simkit.faults import FaultInjector
from ...simkit.gate import admit
from ...simkit.http import SimHandler
from ...simkit.ratelimit import FixedWindowLimiter, parse_rate_limit  # noqa: F401 - re-exported
from ...simkit.routing import METHOD_NOT_ALLOWED
from ...simkit.stats import stats_endpoint
from ...simkit.wire import Request, Response
from .api import API_PREFIX, ROUTER, ApiError, bad_request, not_found, route  # noqa: F401 - re-exported
from .apps import Apps
from .folders import Folders
from .organizations import Organizations
from .paging import Paging
from .projects import Projects
from .tasks import Tasks
from .teams import Teams
from .tenant import Tenant, parse_time
from .users import Users
from .credentials import DEMO_API_KEY, DEMO_CLIENT_ID  # noqa: F401 - re-exported
TOKEN_TTL_SECONDS = 900
RATE_LIMITED = {"error": {"message": "Rate limit exceeded.", "type": "invalid_request_error",
                          "userMessage": "Rate limit exceeded."}}
_MIN_TIME = datetime.min.replace(tzinfo=timezone.utc)


class BenchlingSimulator(Users, Apps, Teams, Organizations, Projects, Folders, Tasks, Paging, LoopbackServer):
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
        self.faults = FaultInjector(faults, seed=fault_seed, slow_seconds=slow_seconds, eligible=_api_read,
                                    error=_error, too_many=lambda h: Response(429, RATE_LIMITED, dict(h)),
                                    page_title="Benchling")
        self.auth = AuthCheck(Basic(self._api_key_user), Token("Bearer", self._oauth_token), refuse=_refuse,
                              fold_case=True)
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
        if self.faults.in_use:  # only with faults= or fail_next (the fault-free stats keep their shape)
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
        answer = stats_endpoint(req, self.stats, self.reset_stats,
                                lambda status, message: ApiError(status, message).response())
        if answer is not None:
            return answer

        arrived = time.monotonic()
        fn_name = ROUTER.match(req)
        key = f"{req.method} {req.route or '(unmatched)'}"
        gate = admit(req, self.limiter if req.path.startswith(API_PREFIX) else None, self.faults)
        resp = gate.answer
        if resp is None:
            resp = self.request_hook(req) if self.request_hook else None
            if resp is None:
                resp = self.faults.finish(req, gate.fault, self._dispatch(req, fn_name))
        resp.headers = {**resp.headers, **gate.headers}
        if self.latency_ms > 0:  # the API answers latency_ms after the request arrived, its own work within it
            resp.not_before = arrived + self.latency_ms / 1000.0
        self._record(key, resp.status, gate.limited)
        return resp

    def _dispatch(self, req: Request, fn_name: Optional[str]) -> Response:
        try:
            if fn_name == "token":
                return self.token(req)
            who = self.auth.check(req.headers)
            if who == "reader" and self.admin_api_key is not None and req.method in ("POST", "PATCH", "DELETE"):
                return self.auth.forbid("user management needs a tenant admin's API key")
            if fn_name is None:
                if req.route == METHOD_NOT_ALLOWED:
                    raise ApiError(405, f"{req.method} is not allowed on {req.path}.")
                raise ApiError(404, f"No such endpoint: {req.method} {req.path}.")
            with self.lock:
                return getattr(self, fn_name)(req, **req.params)
        except ApiError as e:
            return e.response()
        except Denied as e:
            return e.response

    # ---- authentication: the API key, or an OAuth token from POST /token ---------------------
    def _api_key_user(self, user: str, password: str) -> Optional[str]:
        """'admin' (the admin key) or 'reader' (the key) as the Basic username with an empty password."""
        if password == "" and self.admin_api_key is not None and user == self.admin_api_key:
            return "admin"
        return "reader" if user == self.api_key and password == "" else None

    def _oauth_token(self, token: str) -> Optional[str]:
        exp = self._tokens.get(token)
        return "reader" if exp is not None and exp > time.time() else None

    @route("POST", "/token")
    def token(self, req: Request) -> Response:
        form = urllib.parse.parse_qs(req.body.decode("utf-8", "replace"), keep_blank_values=True)
        f = {k: v[-1] for k, v in form.items()}
        client_id, client_secret = f.get("client_id"), f.get("client_secret")
        scheme, _, cred = req.headers.get("authorization", "").partition(" ")
        basic = basic_credentials(cred, colon=False) if scheme.lower() == "basic" else None
        if basic is not None:  # client_secret_basic: form-encoded id and secret
            client_id, client_secret = urllib.parse.unquote(basic[0]), urllib.parse.unquote(basic[1])

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

    @staticmethod
    def internal_error(e: BaseException) -> Response:
        return Response(500, {"error": {"type": "server_error", "message": repr(e), "userMessage": "Internal error"}})


def _api_read(req: Request) -> bool:
    """The requests faults apply to: reads of the API (never writes, POST /token or /_simulator/*)."""
    return req.method == "GET" and (req.path == API_PREFIX or req.path.startswith(API_PREFIX + "/"))


def _error(status: int, message: str) -> Response:
    return ApiError(status, message, type_="server_error" if status >= 500 else "invalid_request_error").response()


def _refuse(refusal: Refusal) -> Response:
    """Benchling's answers to a refused key or token (401) and to a reader's write (403)."""
    if refusal.status == 403:
        return ApiError(403, f"You do not have permission to manage users: {refusal.detail}.").response()
    return ApiError(401, "Authentication failed: send the API key as the HTTP Basic username with an empty "
                         "password, or a valid Bearer token from POST /api/v2/token.").response()


class _Handler(SimHandler):
    simulator: BenchlingSimulator
    server_version = "whsync-benchling-simulator"
