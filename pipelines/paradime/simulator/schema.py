"""The Paradime simulator's GraphQL schema (built with graphql-core's ``build_schema``) and its resolvers: one
root value per workspace, whose methods the default resolver calls. Nothing matches query text by hand."""
from __future__ import annotations

from typing import Any

from graphql import build_schema

from .workspaces import ACCOUNT_TYPES, DEFAULT_INVITE_STATUS, ParadimeWorkspace

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

class _Root:
    """GraphQL root value for one workspace: the default resolver calls these methods."""

    def __init__(self, sim: Any, ws: ParadimeWorkspace) -> None:  # sim: a ParadimeSimulator
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
