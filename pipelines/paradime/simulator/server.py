"""A local Paradime GraphQL API: one endpoint per workspace, served through the simulator kit
(`pipelines/simkit/`: the HTTP handler, the auth check, the rate limiter and fault injection, the stats).

The schema and its resolvers are in `schema.py` (graphql-core ``build_schema`` + ``graphql_sync``), the
workspaces, the fixture file and the generated demo account in `workspaces.py`. Only POST is accepted. Each
workspace answers at ``/api/v1/<workspace uid>/graphql``.

Request flow: ``/_simulator/stats`` | not POST: 405 (not counted) | counted -> rate limit (``rate_limit=``,
off by default) -> faults (``faults=``, ``fail_next``) -> workspace path -> auth -> GraphQL -> faults (rework
a 200 answer).

Auth (`simkit.auth`): ``X-API-KEY`` + ``X-API-SECRET``, or ``Authorization: Bearer <token>`` (a ``prdm_cmp_``
company token also needs ``X-Paradime-Workspace: <uid>``); with ``admin_api_key`` set, that key pair is the
one with User Management Admin. Refused: 401 ``{"message": "Unauthorized: invalid API credentials"}``.
"""
from __future__ import annotations

import copy
import json
import threading
from typing import Any

from graphql import graphql_sync

from ...loopback import LoopbackServer
from ...simkit.auth import AuthCheck, Denied, KeyHeaders, Refusal, Token
from ...simkit.faults import FaultInjector, Kind, plain_error
from ...simkit.gate import admit
from ...simkit.http import SimHandler, plain_json
from ...simkit.ratelimit import FixedWindowLimiter, parse_rate_limit
from ...simkit.stats import stats_endpoint
from ...simkit.wire import Request, Response
from .schema import SCHEMA, SCHEMA_SDL, _operations, _out_of_contract, _Root  # noqa: F401 - re-exported
from .workspaces import (  # noqa: F401 - re-exported
    ACCOUNT_TYPES,
    DEFAULT_INVITE_STATUS,
    DEMO_API_KEY,
    DEMO_API_SECRET,
    DEMO_BEARER_TOKEN,
    ParadimeWorkspace,
    generate_workspaces,
    load_fixture,
    user_uid,
)

MUTATIONS = {"inviteUser", "updateUserAccountType", "disableUser"}


class ParadimeSimulator(LoopbackServer):
    """Serves several Paradime workspaces on one loopback port.

    Use as a context manager, or ``start()`` / ``stop()``. ``endpoint_for(name)`` gives a workspace's
    URL. Test hooks: ``set_failure(name, "errors"|"ok_false"|None)``, ``fail_next(n, status)``
    (transport errors, e.g. 503 or 429: the kit's scripted faults), ``accept_invite(name, email, full_name)``,
    ``unlist(*names)``. ``rate_limit="N/S"`` (default off), ``faults=`` / ``fault_seed`` / ``slow_seconds``:
    the kit's limiter and fault injection (`simkit.faults`).
    """

    def __init__(
        self,
        workspaces: list[ParadimeWorkspace],
        api_key: str = DEMO_API_KEY,
        api_secret: str = DEMO_API_SECRET,
        bearer_token: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        admin_api_key: str | None = None,
        admin_api_secret: str | None = None,
        rate_limit: Any = None,
        faults: Any = None,
        fault_seed: int = 0,
        slow_seconds: float = 5.0,
    ) -> None:
        self.workspaces = workspaces
        self.api_key, self.api_secret, self.bearer_token = api_key, api_secret, bearer_token
        # a key with User Management Admin: with it set, the mutations of the other credentials fail with a
        # GraphQL error (ASSUMPTION: Paradime does not document how a key without the capability is refused)
        self.admin_api_key, self.admin_api_secret = admin_api_key, admin_api_secret
        self._init_server(host, port, _Handler)
        self.lock = threading.RLock()
        self._stats: dict[str, Any] = {"requests": 0, "by_workspace": {}, "auth_failures": 0, "by_operation": {}}
        rl = parse_rate_limit(rate_limit)
        self.limiter = FixedWindowLimiter(*rl) if rl else None
        if self.limiter is not None:  # (the unlimited stats keep their shape)
            self._stats["rate_limited"] = 0
        self.faults = FaultInjector(faults, seed=fault_seed, slow_seconds=slow_seconds, error=plain_error,
                                    too_many=_too_many, page_title="Paradime")
        self.auth = AuthCheck(KeyHeaders(("x-api-key", "x-api-secret"), self._admin_key),
                              Token("Bearer", self._bearer, final=True),
                              KeyHeaders(("x-api-key", "x-api-secret"), self._api_key),
                              refuse=_refuse)
        self.unlisted: set[str] = set()  # uids listWorkspaces no longer returns (see unlist)

    # -- addressing --------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return self.root_url

    def workspace(self, name: str) -> ParadimeWorkspace:
        for w in self.workspaces:
            if w.name == name or w.uid == name:
                return w
        raise KeyError(name)

    def endpoint_for(self, workspace_name: str) -> str:
        return f"{self.base_url}/api/v1/{self.workspace(workspace_name).uid}/graphql"

    # -- hooks -------------------------------------------------------------------------------
    def set_failure(self, workspace_name: str, mode: str | None) -> None:
        """Make the workspace's GraphQL answers fail: ``"errors"`` (errors[]), ``"ok_false"``, an answer out of
        contract (``"user_without_uid"``, ``"user_name_not_string"``), or None."""
        with self.lock:
            self.workspace(workspace_name).fail = mode

    def unlist(self, *workspace_names: str) -> None:
        """``listWorkspaces`` stops returning these workspaces (deleted); their endpoints still answer."""
        with self.lock:
            self.unlisted.update(self.workspace(n).uid for n in workspace_names)

    def fail_next(self, count: int, status: Kind = 503) -> None:
        """The next ``count`` requests (any workspace) get HTTP ``status`` (e.g. 429, 503) with
        ``{"message": "Simulated HTTP <status>"}``, or a fault kind's answer (``"reset"``): `simkit.faults`."""
        self.faults.fail_next(count, status)

    def accept_invite(self, workspace_name: str, email: str, name: str | None = None) -> str:
        """The invitee accepts: leaves invitedUsers, appears in activeUsers. Returns the new uid."""
        with self.lock:
            ws = self.workspace(workspace_name)
            inv = next(i for i in ws.invited_users if i["email"] == email)
            ws.invited_users.remove(inv)
            uid = user_uid(ws.uid, email)
            ws.active_users.append(
                {"uid": uid, "email": email, "name": name or email.split("@")[0],
                 "accountType": inv["accountType"]}
            )
            return uid

    def stats(self) -> dict[str, Any]:
        with self.lock:
            out = copy.deepcopy(self._stats)
        if self.faults.in_use:  # only with faults= or fail_next (the fault-free stats keep their shape)
            out["faults"] = self.faults.counts()
        return out

    # -- auth: the schemes, in the order Paradime's are tried ---------------------------------
    def _admin_key(self, key: str, secret: str | None, **_: Any) -> str | None:
        ok = self.admin_api_key and key == self.admin_api_key and secret == self.admin_api_secret
        return "admin" if ok else None

    def _bearer(self, token: str, workspace: str, named_workspace: str | None) -> bool | None:
        """A workspace token, or a company token (``prdm_cmp_``) naming the workspace in a header: may read and,
        without an admin key configured, write. Final: a Bearer token refused is not followed by the keys."""
        if not self.bearer_token or token != self.bearer_token:
            return None
        if token.startswith("prdm_cmp_"):
            return True if named_workspace == workspace else None
        return True

    def _api_key(self, key: str, secret: str | None, **_: Any) -> bool | None:
        return True if key == self.api_key and secret == self.api_secret else None

    # -- request handling --------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        """Answer one request (no network): the HTTP handler's (`simkit.http`) and the unit tests' entry.
        GraphQL is POST only; `GET /_simulator/stats` answers `stats()`."""
        answer = stats_endpoint(req, self.stats, None, plain_error)
        if answer is not None:
            return answer
        if req.method != "POST":
            return Response(405, {"message": "Method Not Allowed: use POST"})
        with self.lock:
            self._stats["requests"] += 1
        gate = admit(req, self.limiter, self.faults)
        if gate.answer is not None:
            if gate.limited:
                with self.lock:
                    self._stats["rate_limited"] += 1
            return gate.answer
        return self.faults.finish(req, gate.fault, Response(*self._answer(req.path, req.headers, req.body)))

    @staticmethod
    def internal_error(e: BaseException) -> Response:
        return Response(500, {"message": f"Internal error: {e!r}"})

    def _answer(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        parts = path.split("?")[0].strip("/").split("/")
        if len(parts) != 4 or parts[:2] != ["api", "v1"] or parts[3] != "graphql":
            return 404, {"message": "Not Found"}
        try:
            ws = self.workspace(parts[2])
        except KeyError:
            return 404, {"message": "Not Found"}
        if ws.uid != parts[2]:
            return 404, {"message": "Not Found"}
        try:
            who = self.auth.check(headers, workspace=ws.uid, named_workspace=headers.get("x-paradime-workspace"))
        except Denied as e:
            with self.lock:
                self._stats["auth_failures"] += 1
            return e.response.status, e.response.body
        try:
            req = json.loads(body or b"{}")
            query = req["query"]
        except (ValueError, KeyError, TypeError):
            return 400, {"errors": [{"message": "Request body must be JSON with a 'query'"}]}
        ops = _operations(query)
        with self.lock:
            for op in ops:
                self._stats["by_operation"][op] = self._stats["by_operation"].get(op, 0) + 1
        if self.admin_api_key and who != "admin" and set(ops) & MUTATIONS:
            return 200, {"data": None, "errors": [{"message": "Forbidden: the API key lacks the User Management "
                                                              "Admin capability"}]}
        result = graphql_sync(
            SCHEMA,
            query,
            root_value=_Root(self, ws),
            variable_values=req.get("variables"),
            operation_name=req.get("operationName"),
        )
        with self.lock:
            per = self._stats["by_workspace"].setdefault(ws.name, {"requests": 0, "errors": 0})
            per["requests"] += 1
            if result.errors:
                per["errors"] += 1
        return 200, _out_of_contract(ws.fail, result.formatted)


def _too_many(headers: dict[str, str]) -> Response:
    """Paradime documents no rate limit (ASSUMPTION): a 429 in its error body, with ``Retry-After``."""
    return Response(429, {"message": "Too Many Requests"}, {"Retry-After": headers.get("x-rate-limit-reset", "1")})


def _refuse(refusal: Refusal) -> Response:
    return Response(401, {"message": "Unauthorized: invalid API credentials"})


class _Handler(SimHandler):
    simulator: ParadimeSimulator
    server_version = "ParadimeSimulator/1"
    content_type = "application/json"
    encode = staticmethod(plain_json)
