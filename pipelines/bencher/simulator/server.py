"""A local Bencher REST API (organizations and members), served by a stdlib HTTP server.

Fixture (JSON)::

    {"token": "bencher_user_...",
     "organizations": [{"uuid", "name", "slug", "created", "modified", "claimed", "license",
                        "_visible": false?,            # exists, but the token may not view it (404)
                        "_members": [JsonMember, ...]}]}

Objects are what the API returns; underscore keys are read only by the simulator.

Endpoints: ``GET /v0/organizations``, ``GET|POST /v0/organizations/{org}/members``,
``GET|PATCH|DELETE /v0/organizations/{org}/members/{user}`` (org and user by slug or uuid).
Simulator-only: ``GET /_simulator/stats``, ``POST /_simulator/accept`` ``{"organization", "email",
"name"?}`` (an invitee accepts; until then an invitee is not a member).

Served through the simulator kit (`pipelines/simkit/`): the HTTP handler, the auth check (``Authorization:
Bearer <token>``; missing or malformed: 400, unknown: 401, as Bencher's ``auth.rs``), the rate limiter
(``rate_limit=``, off by default) and fault injection (``faults=``, ``fail_next``) before the API answers, and
the stats endpoint.
"""
from __future__ import annotations

import copy
import json
import random
import re
import threading
import uuid as uuidlib
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from ...loopback import LoopbackServer
from ...simkit.auth import AuthCheck, Denied, Refusal, Token
from ...simkit.faults import FaultInjector, Kind
from ...simkit.gate import admit
from ...simkit.http import SimHandler, plain_json
from ...simkit.ratelimit import FixedWindowLimiter, parse_rate_limit
from ...simkit.stats import stats_endpoint
from ...simkit.wire import Request, Response

DEMO_TOKEN = "bencher_user_demo_0123456789abcdef"
ROLES = ("leader",)  # OrganizationRole today; "member" is commented out upstream
MEMBER_FIELDS = ("uuid", "name", "slug", "email", "role", "created", "modified")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CORS = {"access-control-allow-origin": "*", "access-control-expose-headers": "x-total-count"}


def rfc3339(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "user"


def load_fixture(path: str | Path) -> dict[str, Any]:
    """Reads a fixture file: ``{"token", "organizations": [...]}``."""
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    raw.setdefault("token", DEMO_TOKEN)
    return raw


_FIRST = ["Ada", "Grace", "Linus", "Zoë", "Søren", "Ngozi", "Kenji", "Marta", "José", "Wei", "Olu", "Ива"]
_LAST = ["Lovelace", "Hopper", "Torvalds", "Okafor", "Ørsted", "Tanaka", "Nowak", "Álvarez", "Chen"]


def generate_fixture(seed: int = 0, organizations: int = 3, members: int = 20) -> dict[str, Any]:
    """A deterministic demo: ``organizations`` orgs, the first with ``members`` members."""
    rng = random.Random(seed)
    base = datetime(2024, 1, 1, tzinfo=timezone.utc)
    orgs = []
    for o in range(organizations):
        created = base + timedelta(days=rng.randint(0, 300), seconds=rng.randint(0, 86399))
        name = f"Org {o + 1}"
        org = {"uuid": str(uuidlib.UUID(int=rng.getrandbits(128), version=4)), "name": name,
               "slug": _slugify(name), "created": rfc3339(created), "modified": rfc3339(created),
               "claimed": rfc3339(created) if o % 2 == 0 else None, "license": None, "_members": []}
        for i in range(members if o == 0 else max(1, members // 4)):
            mname = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
            joined = created + timedelta(days=rng.randint(0, 100))
            org["_members"].append({
                "uuid": str(uuidlib.UUID(int=rng.getrandbits(128), version=4)), "name": mname,
                "slug": f"{_slugify(mname)}-{o}-{i}", "email": f"user{o}-{i}@example.com", "role": "leader",
                "created": rfc3339(joined), "modified": rfc3339(joined)})
        orgs.append(org)
    return {"token": DEMO_TOKEN, "organizations": orgs}


class BencherSimulator(LoopbackServer):
    """Serves a Bencher API from a fixture on a loopback port.

    Test hooks: ``fail_next(n, status)`` (e.g. 429/503: the kit's scripted faults), ``accept_invite(org,
    email, name)``. ``rate_limit="N/S"`` (default off), ``faults=`` / ``fault_seed`` / ``slow_seconds``: the
    kit's limiter and fault injection (`simkit.faults`).
    """

    def __init__(self, fixture: dict[str, Any], token: str | None = None, host: str = "127.0.0.1",
                 port: int = 0, admin_token: str | None = None, rate_limit: Any = None, faults: Any = None,
                 fault_seed: int = 0, slow_seconds: float = 5.0) -> None:
        self.token = token or fixture.get("token") or DEMO_TOKEN
        # with `admin_token` set, only it may PATCH/DELETE members; `token` may only read and, like a user
        # without the edit/delete right on the server, gets 404 (Bencher hides what it forbids)
        self.admin_token = admin_token
        self.organizations: list[dict[str, Any]] = copy.deepcopy(fixture["organizations"])
        for org in self.organizations:
            org.setdefault("_members", [])
            org.setdefault("_invites", [])
        self._init_server(host, port, _Handler)
        self.lock = threading.RLock()
        self._stats: dict[str, Any] = {"requests": 0, "by_status": {}, "by_path": {}, "per_page": []}
        rl = parse_rate_limit(rate_limit)
        self.limiter = FixedWindowLimiter(*rl) if rl else None
        if self.limiter is not None:  # (the unlimited stats keep their shape)
            self._stats["rate_limited"] = 0
        self.faults = FaultInjector(faults, seed=fault_seed, slow_seconds=slow_seconds,
                                    error=lambda status, message: Response(*self._error(status, message)),
                                    too_many=self._too_many, page_title="Bencher")
        self.auth = AuthCheck(Token("Bearer", self._user_of), refuse=self._refuse)

    @property
    def base_url(self) -> str:
        return self.root_url

    # -- hooks -------------------------------------------------------------------------------
    def fail_next(self, count: int, status: Kind = 503) -> None:
        """The next ``count`` requests get HTTP ``status`` in Bencher's error body (``"Simulated HTTP <status>"``),
        or a fault kind's answer (``"reset"``): `simkit.faults`."""
        self.faults.fail_next(count, status)

    def stats(self) -> dict[str, Any]:
        with self.lock:
            out = copy.deepcopy(self._stats)
        if self.faults.in_use:  # only with faults= or fail_next (the fault-free stats keep their shape)
            out["faults"] = self.faults.counts()
        return out

    def _org(self, key: str) -> dict[str, Any] | None:
        for org in self.organizations:
            if key in (org["slug"], org["uuid"]):
                return org
        return None

    def accept_invite(self, organization: str, email: str, name: str | None = None) -> dict[str, Any]:
        """The invitee accepts: becomes a member (new user uuid and slug). Returns the JsonMember."""
        with self.lock:
            org = self._org(organization)
            if org is None:
                raise KeyError(organization)
            inv = next(i for i in org["_invites"] if i["email"] == email)
            org["_invites"].remove(inv)
            name = name or inv.get("name") or email.split("@")[0]
            now = rfc3339(datetime.now(timezone.utc))
            member = {"uuid": str(uuidlib.uuid4()), "name": name, "slug": f"{_slugify(name)}-{len(org['_members'])}",
                      "email": email, "role": inv["role"], "created": now, "modified": now}
            org["_members"].append(member)
            return dict(member)

    # -- request handling --------------------------------------------------------------------
    @staticmethod
    def _error(status: int, message: str) -> tuple[int, Any, dict[str, str]]:
        return status, {"request_id": str(uuidlib.uuid4()), "message": message}, {}

    def _user_of(self, token: str) -> str | None:
        """"admin" (may edit and remove members when an admin token is set), "user", or None (unknown)."""
        if self.admin_token is not None and token == self.admin_token:
            return "admin"
        return "user" if token == self.token else None

    def _refuse(self, refusal: Refusal) -> Response:
        """Bencher's answers (`auth.rs`): a missing or malformed header is 400, not 401."""
        if refusal.reason == "missing":
            return Response(*self._error(400, "Missing Authorization header"))
        if refusal.reason == "malformed":
            return Response(*self._error(400, "Malformed Authorization header: expected 'Bearer <token>'"))
        return Response(*self._error(401, "Invalid user API key"))

    def _too_many(self, headers: dict[str, str]) -> Response:
        """Bencher Cloud's rate limiting answers 429 (its headers are not documented; ASSUMPTION: Retry-After)."""
        status, body, _ = self._error(429, "Too Many Requests")
        return Response(status, body, {"Retry-After": headers.get("x-rate-limit-reset", "1")})

    def _known_user(self, key: str) -> bool:
        return any(key in (m["uuid"], m["slug"]) for o in self.organizations
                   for m in o["_members"] + o.get("_former", []))

    @staticmethod
    def _list_params(query: dict[str, list[str]]) -> tuple[dict[str, Any] | None, str | None]:
        q = {k: v[-1] for k, v in query.items()}
        try:
            per_page = int(q.get("per_page", 8))
            page = int(q.get("page", 1))
        except ValueError:
            return None, "Failed to parse query string: invalid digit found in string"
        if not 0 <= per_page <= 255:
            return None, "Failed to parse query string: number too large to fit in target type"
        if not 0 <= page <= 2**32 - 1:
            return None, "Failed to parse query string: number too large to fit in target type"
        if q.get("sort", "name") != "name":
            return None, "Failed to parse query string: unknown variant, expected `name`"
        if q.get("direction", "asc") not in ("asc", "desc"):
            return None, "Failed to parse query string: unknown variant, expected `asc` or `desc`"
        return {"per_page": per_page, "page": page, "desc": q.get("direction") == "desc",
                "name": q.get("name"), "search": q.get("search")}, None

    @staticmethod
    def _page(items: list[dict], p: dict[str, Any], keys=("uuid", "name", "slug")) -> tuple[list[dict], int]:
        if p["name"] is not None:
            items = [i for i in items if i["name"] == p["name"]]
        if p["search"]:
            s = p["search"]
            items = [i for i in items if any(s in i[k] for k in keys)]
        items = sorted(items, key=lambda i: (i["name"], i["slug"]), reverse=p["desc"])
        offset = max(p["page"] - 1, 0) * p["per_page"]
        return items[offset: offset + p["per_page"]], len(items)

    @staticmethod
    def _public(obj: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in obj.items() if not k.startswith("_")}

    def handle(self, req: Request) -> Response:
        """Answer one request (no network): the HTTP handler's (`simkit.http`) and the unit tests' entry.
        Flow: simulator endpoints | counted -> rate limit -> faults -> route, auth, answer -> faults."""
        segs = [unquote(s) for s in req.path.strip("/").split("/") if s]
        if segs[:1] == ["_simulator"]:  # the simulator's own endpoints are not counted
            resp = stats_endpoint(req, self.stats, None, lambda status, message: Response(*self._error(status, message)))
            if resp is None:
                resp = Response(*self._simulator_endpoint(req.method, segs, req.body))
            return Response(resp.status, resp.body, {**_CORS, **resp.headers})
        with self.lock:
            self._stats["requests"] += 1
            key = f"{req.method} /" + "/".join(segs[:2] + ([":org"] if len(segs) > 2 else []) + segs[3:4]
                                                + ([":user"] if len(segs) > 4 else []))
            self._stats["by_path"][key] = self._stats["by_path"].get(key, 0) + 1
        gate = admit(req, self.limiter, self.faults)
        if gate.answer is not None:
            if gate.limited:
                with self.lock:
                    self._stats["rate_limited"] += 1
            return Response(gate.answer.status, gate.answer.body, {**_CORS, **gate.answer.headers}, gate.answer.fault)
        status, payload, extra = self._answer(req.method, segs, req.query, req.headers, req.body)
        return self.faults.finish(req, gate.fault, Response(status, payload, {**_CORS, **extra}))

    def internal_error(self, e: BaseException) -> Response:
        status, payload, extra = self._error(500, f"Internal error: {e!r}")
        return Response(status, payload, {**_CORS, **extra})

    def _answer(self, method: str, segs: list[str], query: dict[str, list[str]], headers: dict[str, str],
                body: bytes) -> tuple[int, Any, dict[str, str]]:
        with self.lock:
            if segs[:2] != ["v0", "organizations"]:
                return self._error(404, "Not Found")
            try:
                who = self.auth.check(headers)
            except Denied as e:
                return e.response.status, e.response.body, e.response.headers
            visible = [o for o in self.organizations if o.get("_visible", True)]
            if len(segs) == 2 and method == "GET":
                p, err = self._list_params(query)
                if err:
                    return self._error(400, err)
                self._stats["per_page"].append(p["per_page"])
                page, total = self._page([self._public(o) for o in visible], p)
                return 200, page, {"x-total-count": str(total)}
            org = self._org(segs[2]) if len(segs) > 2 else None
            if org is None or not org.get("_visible", True):
                return self._error(404, "Organization not found")
            if len(segs) == 3 and method == "GET":
                return 200, self._public(org), {"x-total-count": "1"}
            if len(segs) < 4 or segs[3] != "members" or len(segs) > 5:
                return self._error(404, "Not Found")
            if len(segs) == 4:
                if method == "GET":
                    p, err = self._list_params(query)
                    if err:
                        return self._error(400, err)
                    self._stats["per_page"].append(p["per_page"])
                    page, total = self._page(org["_members"], p)
                    return 200, [dict(m) for m in page], {"x-total-count": str(total)}
                if method == "POST":
                    return self._invite(org, body)
                return self._error(405, "Method Not Allowed")
            member = next((m for m in org["_members"] if segs[4] in (m["uuid"], m["slug"])), None)
            if method in ("PATCH", "DELETE") and not (self.admin_token is None or who == "admin"):
                return self._error(404, "Member not found")  # no edit/delete right: 404, as the server hides it
            if member is None and method == "DELETE" and self._known_user(segs[4]):
                return 204, None, {}  # server code: deletes the (no) membership rows, does not check the count
            if member is None:
                return self._error(404, "Member not found")
            if method == "GET":
                return 200, dict(member), {"x-total-count": "1"}
            if method == "PATCH":
                try:
                    req = json.loads(body or b"{}")
                except ValueError:
                    return self._error(400, "Invalid JSON body")
                role = req.get("role")
                if role is not None and role not in ROLES:
                    return self._error(400, f"Invalid role: {role}")
                if role is not None:
                    member["role"] = role
                member["modified"] = rfc3339(datetime.now(timezone.utc))
                return 200, dict(member), {"x-total-count": "1"}
            if method == "DELETE":
                org["_members"].remove(member)
                org.setdefault("_former", []).append(member)  # the user still exists
                return 204, None, {}
            return self._error(405, "Method Not Allowed")

    def _invite(self, org: dict[str, Any], body: bytes) -> tuple[int, Any, dict[str, str]]:
        try:
            req = json.loads(body or b"{}")
        except ValueError:
            return self._error(400, "Invalid JSON body")
        email, role = req.get("email"), req.get("role")
        if not isinstance(email, str) or not _EMAIL.match(email):
            return self._error(400, "Invalid email")
        if role not in ROLES:
            return self._error(400, f"Invalid role: {role}")
        org["_invites"] = [i for i in org["_invites"] if i["email"] != email]
        org["_invites"].append({"email": email, "role": role, "name": req.get("name")})
        return 202, {"email": email}, {}

    def _simulator_endpoint(self, method: str, segs: list[str], body: bytes) -> tuple[int, Any, dict[str, str]]:
        if segs == ["_simulator", "accept"] and method == "POST":
            try:
                req = json.loads(body or b"{}")
                return 200, self.accept_invite(req["organization"], req["email"], req.get("name")), {}
            except (ValueError, KeyError, StopIteration):
                return self._error(404, "No such pending invite")
        return self._error(404, "Not Found")


class _Handler(SimHandler):
    simulator: BencherSimulator
    server_version = "BencherSimulator/1"
    methods = ("GET", "POST", "PATCH", "DELETE")
    content_type = "application/json"
    encode = staticmethod(plain_json)
