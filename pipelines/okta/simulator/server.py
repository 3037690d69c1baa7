"""A local Okta management API (users, groups, apps) and its OAuth token endpoint, from a fixture
(`directory.py`), on a loopback port.

Faithful to Okta's documented behaviour where a sync depends on it:
- `GET /api/v1/users` without `search`/`filter` (also with `q`) omits DEPROVISIONED users; `search`
  and `filter` (the fields and operators in `directory.compile_expression`) include them.
- Cursor paging: `limit` (users/apps max 200, app users 500, groups 10000) and `after`; the next page
  is in the `Link` header (`rel="next"`), absent on the last page.
- Rate limits per endpoint bucket (users, groups, apps, token), fixed windows aligned to whole seconds:
  `X-Rate-Limit-Limit/-Remaining/-Reset` where Reset is the UTC epoch second the window ends; over the
  limit, 429 with errorCode E0000047.
- Auth: `SSWS <token>` (the fixture's admin token; tokens without rights see empty listings), or
  `Bearer <access token>` from `POST /oauth2/v1/token` (client credentials, `private_key_jwt`: the
  assertion's RS256 signature is verified with the service app's public key, iss = sub = client id,
  aud = the token endpoint, exp in the future, jti used once); scopes are enforced per endpoint.
- `DELETE /api/v1/users/{id}`: deactivates (DEPROVISIONED), and a second time deletes: the user vanishes
  from every listing, group and app.
Simulator-only: `GET /_simulator/stats`. Served through the simulator kit (`pipelines/simkit/`: the HTTP
handler, the auth check, the fixed-window limiter in its `epoch` reset mode then fault injection (`fail_next`,
`faults=`) through `simkit.gate`, the stats endpoint).
"""
from __future__ import annotations

import copy
import secrets
import threading
import time
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode

from ...loopback import LoopbackServer
from ...simkit.auth import AuthCheck, Denied, Refusal, Refused, Token
from ...simkit.faults import FaultInjector, Kind
from ...simkit.gate import admit
from ...simkit.http import SimHandler, plain_json
from ...simkit.ratelimit import FixedWindowLimiter
from ...simkit.stats import stats_endpoint
from ...simkit.wire import Request, Response as WireResponse
from .directory import DEMO_API_TOKEN, ExpressionError, compile_expression, iso

Response = tuple[int, Any, dict[str, str]]
RATE_LIMITS = {"users": 600, "groups": 500, "apps": 100, "token": 600}  # requests per window, per bucket
MAX_LIMIT = {"users": 200, "groups": 10000, "group_users": 10000, "apps": 200, "app_users": 500}
SCOPE_OF = {"users": "okta.users.read", "groups": "okta.groups.read", "apps": "okta.apps.read"}
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _err(status: int, code: str, summary: str, headers: dict[str, str] | None = None) -> Response:
    return status, {"errorCode": code, "errorSummary": summary, "errorLink": code,
                    "errorId": "oae" + secrets.token_hex(8), "errorCauses": []}, headers or {}


def _oauth_err(status: int, error: str, description: str) -> Response:
    return status, {"error": error, "error_description": description}, {}


def _error(status: int, message: str) -> WireResponse:
    """Okta's body for an injected fault: its own code and summary for the status (the kit's message unused)."""
    if status == 429:
        return WireResponse(*_err(429, "E0000047", "API call exceeded rate limit due to too many requests."))
    return WireResponse(*_err(status, "E0000009", "Internal Server Error"))


def _refuse(refusal: Refusal) -> WireResponse:
    """Okta's 401 (no, unknown or expired token) and 403 (an access token without the endpoint's scope)."""
    if refusal.status == 403:
        return WireResponse(*_err(403, "E0000006", "You do not have permission to perform the requested action",
                                  {"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{refusal.detail}"'}))
    return WireResponse(*_err(401, "E0000011", "Invalid token provided"))


class OktaSimulator(LoopbackServer):
    """Serves an Okta org from a fixture. Hooks: `fail_next`, `consume` (another client spends a bucket),
    `set_status`, `delete_user`, `stats`."""

    def __init__(self, fixture: dict[str, Any], api_token: str | None = None, host: str = "127.0.0.1", port: int = 0,
                 rate_limits: dict[str, int] | None = None, window_s: float = 60.0, faults: Any = None,
                 fault_seed: int = 0, slow_seconds: float = 5.0) -> None:
        self.api_token = api_token or fixture.get("api_token") or DEMO_API_TOKEN
        self.weak_tokens = set(fixture.get("api_tokens_without_rights", []))
        self.service_apps = {a["client_id"]: a for a in fixture.get("service_apps", [])}
        self.users = {u["id"]: copy.deepcopy(u) for u in fixture.get("users", [])}
        self.groups = {g["id"]: copy.deepcopy(g) for g in fixture.get("groups", [])}
        self.apps = {a["id"]: copy.deepcopy(a) for a in fixture.get("apps", [])}
        limits = {**RATE_LIMITS, **(rate_limits or {})}
        self.buckets = {k: FixedWindowLimiter(v, window_s, reset="epoch") for k, v in limits.items()}
        self.max_limit = {**MAX_LIMIT, **fixture.get("_max_limits", {})}  # a fixture may page sooner
        self._tokens: dict[str, dict[str, Any]] = {}  # access token -> {client_id, scopes, admin, expires}
        self._jtis: set[str] = set()
        self.faults = FaultInjector(faults, seed=fault_seed, slow_seconds=slow_seconds, error=_error,
                                    too_many=lambda h: _error(429, ""), page_title="Okta")
        self.auth = AuthCheck(Token("SSWS", self._api_token), Token("Bearer", self._access_token), refuse=_refuse)
        self.lock = threading.RLock()
        self._stats: dict[str, Any] = {"requests": 0, "rate_limited": 0, "by_path": {}, "by_status": {},
                                       "limits": [], "assertions_verified": 0}
        self._init_server(host, port, _Handler)

    @property
    def org_url(self) -> str:
        return self.root_url

    base_url = org_url

    # -- hooks --------------------------------------------------------------------------------------
    def fail_next(self, count: int, status: Kind = 503) -> None:
        """The next ``count`` requests of a bucket get HTTP ``status`` (Okta's error body): `simkit.faults`."""
        self.faults.fail_next(count, status)

    def consume(self, bucket: str, n: int) -> None:
        """Another client of the org spends `n` requests of the bucket's current window."""
        with self.lock:
            for _ in range(n):
                self.buckets[bucket].hit()

    def window_end(self, bucket: str) -> float:
        """The UTC epoch second the bucket's current window ends."""
        b = self.buckets[bucket]
        return (b.start or 0.0) + b.window

    def stats(self) -> dict[str, Any]:
        with self.lock:
            out = copy.deepcopy(self._stats)
        if self.faults.in_use:  # only with faults= or fail_next (the fault-free stats keep their shape)
            out["faults"] = self.faults.counts()
        return out

    def set_status(self, user_id: str, status: str) -> None:
        with self.lock:
            u = self.users[user_id]
            now = iso(datetime.now(timezone.utc))
            u["status"], u["statusChanged"], u["lastUpdated"] = status, now, now

    def delete_user(self, user_id: str) -> None:
        """Okta deletes only a DEPROVISIONED user; after that it is gone from every listing."""
        with self.lock:
            if self.users[user_id]["status"] != "DEPROVISIONED":
                raise ValueError("only a DEPROVISIONED user can be deleted")
            del self.users[user_id]
            for g in self.groups.values():
                g["_members"] = [m for m in g.get("_members", []) if m != user_id]
            for a in self.apps.values():
                a["_users"] = [au for au in a.get("_users", []) if au["id"] != user_id]

    # -- request handling ------------------------------------------------------------------------------
    @staticmethod
    def _public(obj: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in obj.items() if not k.startswith("_") or k in ("_links", "_embedded")}

    def handle(self, req: Request) -> WireResponse:
        """Answer one request (the kit's HTTP handler calls this)."""
        stats = stats_endpoint(req, self.stats, None, lambda status, msg: WireResponse(*_err(status, "E0000022", msg)))
        if stats is not None:
            return stats
        status, payload, extra = self._answer(req, {k: v[-1] for k, v in req.query.items()})
        if isinstance(payload, WireResponse):  # an injected fault (e.g. a reset), as the kit answered it
            return payload
        return WireResponse(status, payload, extra)

    def internal_error(self, e: BaseException) -> WireResponse:
        return WireResponse(*_err(500, "E0000009", f"Internal Server Error: {e!r}"))

    def _answer(self, req: Request, query: dict[str, str]) -> Response:
        method, path = req.method, req.path
        segs = [unquote(s) for s in path.strip("/").split("/") if s]
        with self.lock:
            self._stats["requests"] += 1
            key = f"{method} /" + "/".join(s if i < 3 or i == 4 else ":id" for i, s in enumerate(segs))
            self._stats["by_path"][key] = self._stats["by_path"].get(key, 0) + 1
            status, payload, extra = self._route(req, segs, query)
            self._stats["by_status"][str(status)] = self._stats["by_status"].get(str(status), 0) + 1
            self._stats["rate_limited"] += status == 429
            return status, payload, extra

    def _route(self, req: Request, segs: list[str], query: dict[str, str]) -> Response:
        method, path, body = req.method, req.path, req.body
        if segs[:2] == ["oauth2", "v1"]:
            bucket = "token"
        elif segs[:2] == ["api", "v1"] and len(segs) > 2 and segs[2] in SCOPE_OF:
            bucket = segs[2]
        else:
            return _err(404, "E0000022", "The endpoint does not support the provided HTTP method")
        gate = admit(req, self.buckets[bucket], self.faults)
        rate = gate.headers
        if gate.answer is not None:  # over the bucket's limit (E0000047), or an injected fault
            if gate.answer.fault:
                return 0, gate.answer, {}
            return gate.answer.status, gate.answer.body, {**gate.answer.headers, **rate}
        if bucket == "token":
            status, payload, extra = self._token(method, segs, body)
        else:
            try:
                who = self.auth.check(req.headers, bucket=bucket)
            except Denied as e:
                return e.response.status, e.response.body, {**rate, **e.response.headers}
            status, payload, extra = self._api(method, segs, path, query, bucket, who)
        resp = self.faults.finish(req, gate.fault, WireResponse(status, payload, {**rate, **extra}))
        return resp.status, resp.body, resp.headers

    # -- auth: an API token (SSWS), or an access token from /oauth2/v1/token (Bearer) ------------------
    def _api_token(self, token: str, **_: Any) -> bool | None:
        """True (admin) or False (a token without the admin role: empty listings)."""
        if token == self.api_token:
            return True
        return False if token in self.weak_tokens else None

    def _access_token(self, token: str, bucket: str) -> bool | None:
        t = self._tokens.get(token)
        if t is None:
            return None
        if time.time() >= t["expires"]:
            raise Refused(401, "expired")
        if SCOPE_OF[bucket] not in t["scopes"]:
            raise Refused(403, "forbidden", SCOPE_OF[bucket])
        return bool(t["admin"])

    def _token(self, method: str, segs: list[str], body: bytes) -> Response:
        import jwt

        if method != "POST" or segs != ["oauth2", "v1", "token"]:
            return _err(404, "E0000022", "Not found")
        form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        if form.get("grant_type") != "client_credentials":
            return _oauth_err(400, "unsupported_grant_type", "The authorization grant type is not supported.")
        assertion = form.get("client_assertion", "")
        if form.get("client_assertion_type") != ASSERTION_TYPE or not assertion:
            return _oauth_err(401, "invalid_client", "Client authentication failed: a private_key_jwt client_assertion is required.")
        try:
            client_id = jwt.decode(assertion, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError:
            return _oauth_err(401, "invalid_client", "The client_assertion is not a JWT.")
        app = self.service_apps.get(client_id or "")
        if app is None:
            return _oauth_err(401, "invalid_client", "The client_assertion token has an invalid issuer.")
        try:
            claims = jwt.decode(assertion, app["public_key"], algorithms=["RS256", "RS384", "RS512", "ES256"],
                                audience=self.org_url + "/oauth2/v1/token", issuer=client_id,
                                options={"require": ["exp", "iat", "iss", "sub", "aud", "jti"]})
        except jwt.InvalidSignatureError:
            return _oauth_err(401, "invalid_client", "The client_assertion signature is invalid.")
        except jwt.PyJWTError as e:
            return _oauth_err(401, "invalid_client", f"The client_assertion is invalid: {type(e).__name__}.")
        if claims["sub"] != client_id or claims["exp"] - claims["iat"] > 3600:
            return _oauth_err(401, "invalid_client", "The client_assertion sub must equal iss, and live at most an hour.")
        if claims["jti"] in self._jtis:
            return _oauth_err(401, "invalid_client", "The client_assertion token has already been used (jti).")
        self._jtis.add(claims["jti"])
        scopes = (form.get("scope") or "").split()
        denied = [s for s in scopes if s not in app.get("scopes", [])]
        if not scopes or denied:
            return _oauth_err(400, "invalid_scope", f"The following scopes are not allowed: {' '.join(denied) or '(none requested)'}")
        token = "eyJsim." + secrets.token_urlsafe(24)
        self._tokens[token] = {"client_id": client_id, "scopes": scopes, "admin": app.get("admin", True),
                               "expires": time.time() + 3600}
        self._stats["assertions_verified"] += 1
        return 200, {"token_type": "Bearer", "expires_in": 3600, "access_token": token, "scope": " ".join(scopes)}, {}

    def _api(self, method: str, segs: list[str], path: str, query: dict[str, str], bucket: str, admin: bool) -> Response:
        if bucket == "users":
            if len(segs) == 3 and method == "GET":
                return self._list_users(path, query, admin)
            if len(segs) == 4 and method == "GET":
                u = self.users.get(segs[3]) if admin else None
                return (200, self._public(u), {}) if u else _err(404, "E0000007", f"Not found: Resource not found: {segs[3]} (User)")
            if len(segs) == 4 and method == "DELETE" and admin:
                u = self.users.get(segs[3])
                if u is None:
                    return _err(404, "E0000007", f"Not found: Resource not found: {segs[3]} (User)")
                if u["status"] == "DEPROVISIONED":
                    self.delete_user(u["id"])
                else:
                    self.set_status(u["id"], "DEPROVISIONED")
                return 204, None, {}
        elif bucket == "groups":
            if len(segs) == 3 and method == "GET":
                rows = sorted(self.groups.values(), key=lambda g: g["id"]) if admin else []
                return self._page(path, query, "groups", [self._public(g) for g in rows])
            if len(segs) == 5 and segs[4] == "users" and method == "GET":
                g = self.groups.get(segs[3])
                if g is None or not admin:
                    return _err(404, "E0000007", f"Not found: Resource not found: {segs[3]} (UserGroup)")
                members = sorted((self.users[m] for m in g.get("_members", []) if m in self.users), key=lambda u: u["id"])
                return self._page(path, query, "group_users", [self._public(u) for u in members])
        elif bucket == "apps":
            if len(segs) == 3 and method == "GET":
                rows = sorted(self.apps.values(), key=lambda a: a["id"]) if admin else []
                return self._page(path, query, "apps", [self._public(a) for a in rows])
            if len(segs) == 5 and segs[4] == "users" and method == "GET":
                a = self.apps.get(segs[3])
                if a is None or not admin:
                    return _err(404, "E0000007", f"Not found: Resource not found: {segs[3]} (AppInstance)")
                rows = sorted((au for au in a.get("_users", []) if au["id"] in self.users), key=lambda au: au["id"])
                return self._page(path, query, "app_users", [self._public(au) for au in rows])
        return _err(405, "E0000022", "The endpoint does not support the provided HTTP method")

    def _list_users(self, path: str, query: dict[str, str], admin: bool) -> Response:
        rows = sorted(self.users.values(), key=lambda u: u["id"]) if admin else []
        try:
            if query.get("search"):
                match = compile_expression(query["search"], search=True)
                rows = [u for u in rows if match(u)]
            elif query.get("filter"):
                match = compile_expression(query["filter"], search=False)
                rows = [u for u in rows if match(u)]
            else:  # the plain listing, and `q`, omit the users who were deactivated
                rows = [u for u in rows if u["status"] != "DEPROVISIONED"]
                q = query.get("q", "").lower()
                if q:
                    rows = [u for u in rows if any(str(u["profile"].get(f) or "").lower().startswith(q)
                                                   for f in ("firstName", "lastName", "email"))]
        except ExpressionError:
            return _err(400, "E0000031", "Invalid search criteria.")
        return self._page(path, query, "users", [self._public(u) for u in rows])

    def _page(self, path: str, query: dict[str, str], kind: str, rows: list[dict[str, Any]]) -> Response:
        try:
            limit = int(query.get("limit") or self.max_limit[kind])
        except ValueError:
            return _err(400, "E0000001", "Api validation failed: limit")
        limit = max(1, min(limit, self.max_limit[kind]))
        self._stats["limits"].append(limit)
        after = query.get("after")
        if after:
            rows = [r for r in rows if r["id"] > after]
        page = rows[:limit]
        base = {k: v for k, v in query.items() if k != "after"}
        links = [f'<{self.org_url}{path}?{urlencode(query)}>; rel="self"']
        if len(rows) > limit:
            links.append(f'<{self.org_url}{path}?{urlencode({**base, "after": page[-1]["id"]})}>; rel="next"')
        return 200, page, {"Link": ", ".join(links)}


class _Handler(SimHandler):
    simulator: OktaSimulator
    server_version = "OktaSimulator/1"
    methods = ("GET", "POST", "DELETE")
    content_type = "application/json"
    encode = staticmethod(plain_json)
