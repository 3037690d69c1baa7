"""Paradime: one `listUsers` per workspace; `disableUser` and `updateUserAccountType` one call each."""
from __future__ import annotations

from typing import Any

from ..model import Action
from ..pacing import PARADIME_BUDGET, PacedSession
from .common import WRITE_RETRY_SECONDS, WRITE_TRIES, Result, SystemRefused

PARADIME_ADMIN_TYPES = ("ADMIN", "WORKSPACE_ADMIN")  # a workspace keeps at least one of these


class ParadimeExecutor:
    system = "paradime"
    key_owner_email: str | None = None
    # reference (paradime-and-bencher-apis.md): keys are the workspace's (generated with capabilities, scoped to one
    # workspace); the documented operations (listUsers, listWorkspaces, the three mutations) name no key owner
    key_owner_unknown = "Paradime's API keys belong to a workspace, not to a user, and no query names who holds one"

    def __init__(self, configs: list[Any]) -> None:
        self.session = PacedSession(*PARADIME_BUDGET)
        self.clients = {c.name: c.client(session=self.session, max_retries=WRITE_TRIES - 1,
                                         max_retry_seconds=WRITE_RETRY_SECONDS) for c in configs}
        self.active: dict[str, dict[str, dict]] = {}  # workspace -> uid -> user

    def close(self) -> None:
        self.session.close()

    def stats(self) -> dict[str, int]:
        return self.session.counts()

    def check(self, actions: list[Action]) -> dict[str, dict[str, Any] | None]:
        from ...paradime.client import ParadimeAuthError

        for ws in sorted({a.scope for a in actions}):
            client = self.clients.get(ws)
            if client is None:
                raise SystemRefused(f"Paradime workspace '{ws}' of the plan is not configured (PARADIME_WORKSPACES / "
                                    "PARADIME_API_ENDPOINT, or [sources.paradime] in .dlt/secrets.toml)")
            try:
                active, _ = client.list_users()
            except ParadimeAuthError as e:
                raise SystemRefused(str(e)) from None
            self.active[ws] = {u["uid"]: u for u in active}
        live: dict[str, dict[str, Any] | None] = {}
        for a in actions:
            u = self.active[a.scope].get(a.account_id)
            live[a.key] = {"status": "removed"} if u is None else {"status": "active", "role": u.get("accountType")}
        return live

    def live_scopes(self) -> dict[str, int]:
        """Active users per workspace, from the live check's `listUsers` (a disabled user is not listed)."""
        return {ws: len(users) for ws, users in self.active.items()}

    def live_accounts(self) -> dict[tuple[str, str], bool]:
        return {}

    def last_admin(self, actions: list[Action]) -> dict[str, list[Action]]:
        out: dict[str, list[Action]] = {}
        for ws, users in self.active.items():
            admins = {uid for uid, u in users.items() if u.get("accountType") in PARADIME_ADMIN_TYPES}
            after, cause = set(admins), []
            for a in actions:
                if a.scope != ws:
                    continue
                if a.account_id in after and (a.action == "disable" or a.result.get("role") not in PARADIME_ADMIN_TYPES):
                    after.discard(a.account_id)
                    cause.append(a)
                elif a.action == "set_account_type" and a.result.get("role") in PARADIME_ADMIN_TYPES:
                    after.add(a.account_id)
            if admins and not after:
                out[ws] = cause
        return out

    def execute(self, todo: list[tuple[Action, Any]], audit: Any) -> list[Result]:
        from ...paradime.client import ParadimeAuthError, ParadimeError

        results = []
        for a, before in todo:
            audit.intents([(a, before)])
            client = self.clients[a.scope]
            try:
                if a.action == "disable":
                    client.disable_user(a.account_id)
                else:
                    client.update_user_account_type(a.account_id, a.result["role"])
                r = Result(a, "applied", None, before, a.result)
            except ParadimeAuthError as e:
                audit.outcomes([(a, "failed", str(e), before, before)])
                raise SystemRefused(str(e)) from None
            except ParadimeError as e:
                r = Result(a, "failed", str(e), before, before)
            audit.outcomes([(r.action, r.outcome, r.cause, r.before, r.after)])
            results.append(r)
        return results
