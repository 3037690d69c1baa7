"""A local Paradime GraphQL API: one endpoint per workspace, served by a stdlib HTTP server.

The schema is built with graphql-core (``build_schema``) and executed with ``graphql_sync``; nothing
matches query text by hand. Only POST is accepted. Each workspace answers at
``/api/v1/<workspace uid>/graphql``.

Fixture (JSON)::

    {"api_key": "...", "api_secret": "...", "bearer_token": "prdm_wsp_..." (optional),
     "workspaces": [{"name": "data-platform", "uid": "<16 chars>",
                     "activeUsers": [{"uid", "email", "name", "accountType", "_disabled": true?}],
                     "invitedUsers": [{"email", "accountType", "inviteStatus"}],
                     "_fail": "errors" | "ok_false" | null}]}

Objects are what the API returns; underscore keys are read only by the simulator. A user with
``"_disabled": true`` is disabled: like (we believe) the real API, it is not returned.
"""
from __future__ import annotations

import copy
import hashlib
import json
import random
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphql import build_schema, graphql_sync

from ...loopback import LoopbackServer
from ...simkit.http import SimHandler, plain_json
from ...simkit.stats import stats_endpoint
from ...simkit.wire import Request, Response

ACCOUNT_TYPES = (
    "ADMIN",
    "DEVELOPER",
    "BUSINESS",
    "BILLING_ADMIN",
    "SECURITY_ADMIN",
    "WORKSPACE_SETTINGS_ADMIN",
    "WORKSPACE_ADMIN",
    "ANALYST",
    "SANDBOX_USER",
)

SCHEMA_SDL = """
enum UserAccountType { %s }

type ActiveUser { uid: String! email: String! name: String accountType: String! }
type InvitedUser { email: String! accountType: String! inviteStatus: String! }
type ListUsersResult { ok: Boolean! activeUsers: [ActiveUser!] invitedUsers: [InvitedUser!] }
type Workspace { name: String! uid: String! }
type ListWorkspacesResult { ok: Boolean! workspaces: [Workspace!] }
type OkResult { ok: Boolean! }

type Query {
  listUsers: ListUsersResult
  listWorkspaces: ListWorkspacesResult
}

type Mutation {
  inviteUser(email: String!, accountType: UserAccountType!): OkResult
  updateUserAccountType(uid: String!, accountType: UserAccountType!): OkResult
  disableUser(uid: String!): OkResult
}
""" % " ".join(ACCOUNT_TYPES)

SCHEMA = build_schema(SCHEMA_SDL)

DEMO_API_KEY = "demo-paradime-api-key"
DEMO_API_SECRET = "demo-paradime-api-secret"
DEMO_BEARER_TOKEN = "prdm_wsp_demo_token"
DEFAULT_INVITE_STATUS = "SENT"  # the SDK's enum value; the docs' example shows ACTIVE


def user_uid(workspace_uid: str, email: str) -> str:
    """A stable 64-hex user uid, like Paradime's."""
    return hashlib.sha256(f"{workspace_uid}:{email}".encode()).hexdigest()


@dataclass
class ParadimeWorkspace:
    """One workspace: its users as the API returns them (plus ``_disabled``)."""

    name: str
    uid: str
    active_users: list[dict[str, Any]] = field(default_factory=list)
    invited_users: list[dict[str, Any]] = field(default_factory=list)
    fail: str | None = None  # "errors" | "ok_false": make every query/mutation fail that way

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> "ParadimeWorkspace":
        return cls(
            name=obj["name"],
            uid=obj["uid"],
            active_users=copy.deepcopy(obj.get("activeUsers", [])),
            invited_users=copy.deepcopy(obj.get("invitedUsers", [])),
            fail=obj.get("_fail"),
        )

    def visible_active_users(self) -> list[dict[str, Any]]:
        return [
            {k: v for k, v in u.items() if not k.startswith("_")}
            for u in self.active_users
            if not u.get("_disabled")
        ]

    def visible_invited_users(self) -> list[dict[str, Any]]:
        return [{k: v for k, v in u.items() if not k.startswith("_")} for u in self.invited_users]


def load_fixture(path: str | Path) -> dict[str, Any]:
    """Reads a fixture file: ``{"api_key", "api_secret", "workspaces": [ParadimeWorkspace, ...]}``."""
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    return {
        "api_key": raw.get("api_key", DEMO_API_KEY),
        "api_secret": raw.get("api_secret", DEMO_API_SECRET),
        "bearer_token": raw.get("bearer_token"),
        "workspaces": [ParadimeWorkspace.from_json(w) for w in raw["workspaces"]],
    }


_FIRST = ["Alexandra", "Jonathan", "Matt", "Priya", "Søren", "Zoë", "Kenji", "Amara", "Luis", "Chen"]
_LAST = ["James", "Maxwell", "McDonald", "Patel", "Kierkegård", "Okafor", "Tanaka", "García", "Wei"]


def generate_workspaces(seed: int = 0, n_workspaces: int = 2, users_per_workspace: int = 25) -> list[ParadimeWorkspace]:
    """A deterministic demo account: ``n_workspaces`` workspaces with active and invited users."""
    rng = random.Random(seed)
    out = []
    for w in range(n_workspaces):
        uid = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(16))
        ws = ParadimeWorkspace(name=f"workspace-{w + 1}", uid=uid)
        for i in range(users_per_workspace):
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            email = f"{first.lower()}.{last.lower()}{i}@acme.io".encode("ascii", "ignore").decode()
            ws.active_users.append(
                {"uid": user_uid(uid, email), "email": email, "name": f"{first} {last}",
                 "accountType": rng.choice(ACCOUNT_TYPES)}
            )
        for i in range(max(1, users_per_workspace // 8)):
            ws.invited_users.append(
                {"email": f"invitee{i}@acme.io", "accountType": rng.choice(ACCOUNT_TYPES),
                 "inviteStatus": rng.choice(["SENT", "EXPIRED"])}
            )
        out.append(ws)
    return out


class _Root:
    """GraphQL root value for one workspace: the default resolver calls these methods."""

    def __init__(self, sim: "ParadimeSimulator", ws: ParadimeWorkspace) -> None:
        self.sim, self.ws = sim, ws

    def _fail(self) -> dict | None:
        if self.ws.fail == "errors":
            raise RuntimeError("Simulated failure: internal error while resolving the query")
        if self.ws.fail == "ok_false":
            return {"ok": False}
        return None

    def listUsers(self, info):  # noqa: N802 (GraphQL field names)
        with self.sim.lock:
            return self._fail() or {
                "ok": True,
                "activeUsers": self.ws.visible_active_users(),
                "invitedUsers": self.ws.visible_invited_users(),
            }

    def listWorkspaces(self, info):  # noqa: N802
        with self.sim.lock:
            return self._fail() or {
                "ok": True,
                "workspaces": [{"name": w.name, "uid": w.uid} for w in self.sim.workspaces
                               if w.uid not in self.sim.unlisted],
            }

    def inviteUser(self, info, email, accountType):  # noqa: N802
        with self.sim.lock:
            failed = self._fail()
            if failed:
                return failed
            if any(u["email"] == email and not u.get("_disabled") for u in self.ws.active_users):
                return {"ok": False}
            for inv in self.ws.invited_users:
                if inv["email"] == email:
                    inv.update(accountType=accountType, inviteStatus=DEFAULT_INVITE_STATUS)
                    return {"ok": True}
            self.ws.invited_users.append(
                {"email": email, "accountType": accountType, "inviteStatus": DEFAULT_INVITE_STATUS}
            )
            return {"ok": True}

    def updateUserAccountType(self, info, uid, accountType):  # noqa: N802
        return self._change_active_user(uid, {"accountType": accountType})

    def disableUser(self, info, uid):  # noqa: N802
        return self._change_active_user(uid, {"_disabled": True})

    def _change_active_user(self, uid: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Apply `changes` to the active (not disabled) user `uid`; `ok: false` if there is none."""
        with self.sim.lock:
            failed = self._fail()
            if failed:
                return failed
            for u in self.ws.active_users:
                if u["uid"] == uid and not u.get("_disabled"):
                    u.update(changes)
                    return {"ok": True}
            return {"ok": False}


class ParadimeSimulator(LoopbackServer):
    """Serves several Paradime workspaces on one loopback port.

    Use as a context manager, or ``start()`` / ``stop()``. ``endpoint_for(name)`` gives a workspace's
    URL. Test hooks: ``set_failure(name, "errors"|"ok_false"|None)``, ``fail_next(n, status)``
    (transport errors, e.g. 503 or 429), ``accept_invite(name, email, full_name)``, ``unlist(*names)``.
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
    ) -> None:
        self.workspaces = workspaces
        self.api_key, self.api_secret, self.bearer_token = api_key, api_secret, bearer_token
        # a key with User Management Admin: with it set, the mutations of the other credentials fail with a
        # GraphQL error (ASSUMPTION: Paradime does not document how a key without the capability is refused)
        self.admin_api_key, self.admin_api_secret = admin_api_key, admin_api_secret
        self._init_server(host, port, _Handler)
        self.lock = threading.RLock()
        self._stats: dict[str, Any] = {"requests": 0, "by_workspace": {}, "auth_failures": 0, "by_operation": {}}
        self._fail_next: list[int] = []
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

    def fail_next(self, count: int, status: int = 503) -> None:
        """The next ``count`` requests (any workspace) get HTTP ``status`` (e.g. 429, 503)."""
        with self.lock:
            self._fail_next.extend([status] * count)

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
            return copy.deepcopy(self._stats)

    # -- request handling --------------------------------------------------------------------
    def _authorized(self, headers, ws: ParadimeWorkspace) -> bool | str:
        """False, True (may read and, without an admin key configured, write) or "admin"."""
        if (self.admin_api_key and headers.get("x-api-key") == self.admin_api_key
                and headers.get("x-api-secret") == self.admin_api_secret):
            return "admin"
        auth = headers.get("authorization", "")
        if auth.startswith("Bearer "):
            token = auth[len("Bearer "):].strip()
            if not self.bearer_token or token != self.bearer_token:
                return False
            if token.startswith("prdm_cmp_"):
                return headers.get("x-paradime-workspace") == ws.uid
            return True
        return (
            headers.get("x-api-key") == self.api_key and headers.get("x-api-secret") == self.api_secret
        )

    def handle(self, req: Request) -> Response:
        """Answer one request (no network): the HTTP handler's (`simkit.http`) and the unit tests' entry.
        GraphQL is POST only; `GET /_simulator/stats` answers `stats()`."""
        answer = stats_endpoint(req, self.stats, None, lambda status, message: Response(status, {"message": message}))
        if answer is not None:
            return answer
        if req.method != "POST":
            return Response(405, {"message": "Method Not Allowed: use POST"})
        return Response(*self._answer(req.path, req.headers, req.body))

    @staticmethod
    def internal_error(e: BaseException) -> Response:
        return Response(500, {"message": f"Internal error: {e!r}"})

    def _answer(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self._stats["requests"] += 1
            if self._fail_next:
                status = self._fail_next.pop(0)
                return status, {"message": f"Simulated HTTP {status}"}
        parts = path.split("?")[0].strip("/").split("/")
        if len(parts) != 4 or parts[:2] != ["api", "v1"] or parts[3] != "graphql":
            return 404, {"message": "Not Found"}
        try:
            ws = self.workspace(parts[2])
        except KeyError:
            return 404, {"message": "Not Found"}
        if ws.uid != parts[2]:
            return 404, {"message": "Not Found"}
        who = self._authorized(headers, ws)
        if not who:
            with self.lock:
                self._stats["auth_failures"] += 1
            return 401, {"message": "Unauthorized: invalid API credentials"}
        try:
            req = json.loads(body or b"{}")
            query = req["query"]
        except (ValueError, KeyError, TypeError):
            return 400, {"errors": [{"message": "Request body must be JSON with a 'query'"}]}
        ops = _operations(query)
        with self.lock:
            for op in ops:
                self._stats["by_operation"][op] = self._stats["by_operation"].get(op, 0) + 1
        if self.admin_api_key and who != "admin" and set(ops) & {"inviteUser", "updateUserAccountType", "disableUser"}:
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


def _operations(query: str) -> list[str]:
    """The top-level fields a GraphQL document selects (listUsers, disableUser, ...), for the stats."""
    from graphql import parse
    from graphql.error import GraphQLError

    try:
        doc = parse(query)
    except GraphQLError:
        return []
    return [sel.name.value for d in doc.definitions for sel in getattr(getattr(d, "selection_set", None), "selections", [])
            if hasattr(sel, "name")]


def _out_of_contract(fail: str | None, payload: dict[str, Any]) -> dict[str, Any]:
    """The faults a GraphQL server would never send but a client must survive: ``"user_without_uid"`` drops
    the first active user's ``uid``; ``"user_name_not_string"`` makes its ``name`` a number."""
    users = ((payload.get("data") or {}).get("listUsers") or {}).get("activeUsers")
    if fail in ("user_without_uid", "user_name_not_string") and users:
        if fail == "user_without_uid":
            users[0].pop("uid", None)
        else:
            users[0]["name"] = 42
    return payload


class _Handler(SimHandler):
    simulator: ParadimeSimulator
    server_version = "ParadimeSimulator/1"
    content_type = "application/json"
    encode = staticmethod(plain_json)
