"""The Paradime simulator's data: workspaces and their users as the API returns them, the fixture file, and a
generated demo account.

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
