"""Bencher: one member listing per organization; `DELETE`/`PATCH` of a member one call each."""
from __future__ import annotations

import base64
import json
from typing import Any

from ...http import REDACTOR
from ..model import Action
from ..pacing import BENCHER_BUDGET, PacedSession
from .common import WRITE_RETRY_SECONDS, WRITE_TRIES, Result, SystemRefused

def jwt_subject(token: str) -> str | None:
    """The `sub` claim (Bencher puts the user's email there) of a JWT-shaped token, unverified; None for a
    user API key (`bencher_user_...`), whose owner the API does not tell."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, TypeError):
        return None
    sub = claims.get("sub") if isinstance(claims, dict) else None
    return str(sub).strip().lower() if sub else None


class BencherExecutor:
    system = "bencher"

    def __init__(self, base_url: str, admin_token: str, allow_insecure_http: bool = False) -> None:
        from ...bencher.client import BencherClient

        REDACTOR.register(admin_token)
        self.session = PacedSession(*BENCHER_BUDGET)
        self.client = BencherClient(base_url, admin_token, session=self.session, max_retries=WRITE_TRIES - 1,
                                    max_retry_seconds=WRITE_RETRY_SECONDS, allow_insecure_http=allow_insecure_http)
        self.key_owner_email = jwt_subject(admin_token)
        self.key_owner_unknown = None if self.key_owner_email else (
            "a Bencher user API key (bencher_user_...) does not say whose it is (an API token, a JWT, names its user)")
        self.members: dict[str, dict[str, dict]] = {}

    def close(self) -> None:
        self.session.close()

    def stats(self) -> dict[str, int]:
        return self.session.counts()

    def check(self, actions: list[Action]) -> dict[str, dict[str, Any] | None]:
        from ...bencher.client import BencherAuthError, BencherNotFoundError

        for org in sorted({a.scope for a in actions}):
            try:
                self.members[org] = {m["uuid"]: m for page in self.client.list_members(org) for m in page}
            except BencherAuthError as e:
                raise SystemRefused(str(e)) from None
            except BencherNotFoundError:
                self.members[org] = {}
        live: dict[str, dict[str, Any] | None] = {}
        for a in actions:
            m = self.members[a.scope].get(a.account_id)
            live[a.key] = {"status": "removed"} if m is None else {"status": "member", "role": m.get("role")}
        return live

    def live_scopes(self) -> dict[str, int]:
        """Members per organization, from the live check's listing."""
        return {org: len(members) for org, members in self.members.items()}

    def live_accounts(self) -> dict[tuple[str, str], bool]:
        return {}

    def last_admin(self, actions: list[Action]) -> dict[str, list[Action]]:
        out: dict[str, list[Action]] = {}
        for org, members in self.members.items():
            leaders = {u for u, m in members.items() if m.get("role") == "leader"}
            after, cause = set(leaders), []
            for a in actions:
                if a.scope == org and a.action == "remove_member" and a.account_id in after:
                    after.discard(a.account_id)
                    cause.append(a)
            if leaders and not after:
                out[org] = cause
        return out

    def execute(self, todo: list[tuple[Action, Any]], audit: Any) -> list[Result]:
        from ...bencher.client import BencherAuthError, BencherError, BencherNotFoundError

        results = []
        for a, before in todo:
            audit.intents([(a, before)])
            try:
                if a.action == "remove_member":
                    self.client.remove_member(a.scope, a.account_id)
                    r = Result(a, "applied", None, before, {"status": "removed"})
                else:
                    m = self.client.update_member(a.scope, a.account_id, a.result["role"])
                    r = Result(a, "applied", None, before, {"status": "member", "role": m.get("role")})
            except BencherAuthError as e:
                audit.outcomes([(a, "failed", str(e), before, before)])
                raise SystemRefused(str(e)) from None
            except BencherNotFoundError as e:
                r = Result(a, "failed", f"{e}: the member was listed a moment ago, so the token most likely lacks the "
                                        "edit/delete right in this organization (Bencher answers 404 for what it forbids)",
                           before, before)
            except BencherError as e:
                r = Result(a, "failed", str(e), before, before)
            audit.outcomes([(r.action, r.outcome, r.cause, r.before, r.after)])
            results.append(r)
        return results
