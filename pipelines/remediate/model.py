"""Actions and the plan file. A plan is JSON: the sync it was made from (`run_id`), its actions (each with
the state it expects to find and the state it leaves), and `actions_sha256`, a SHA-256 of the actions in
canonical JSON, so an edited plan is refused. It holds no secret: ids, emails, names, reasons."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..settings import ConfigError

PLAN_VERSION = 1

# action -> (system, expected state, resulting state, undoable through the API, deactivates an account)
# A state is {"status": ..., "role": ...}; only the keys given are compared with the live state.
ACTIONS: dict[str, dict[str, Any]] = {
    "suspend": {"system": "benchling", "expect": {"status": "active"}, "leave": {"status": "suspended"},
                "undoable": True, "deactivates": True},
    "unsuspend": {"system": "benchling", "expect": {"status": "suspended"}, "leave": {"status": "active"},
                  "undoable": True, "deactivates": False},
    "remove_membership": {"system": "benchling", "expect": {"status": "member"}, "leave": {"status": "removed"},
                          "undoable": True, "deactivates": False},
    "set_team_role": {"system": "benchling", "role": ("ADMIN", "MEMBER"), "undoable": True, "deactivates": False},
    # Paradime documents no re-enable mutation: disableUser cannot be undone through the API (the UI can)
    "disable": {"system": "paradime", "expect": {"status": "active"}, "leave": {"status": "removed"},
                "undoable": False, "deactivates": True},
    "set_account_type": {"system": "paradime", "role": None, "undoable": True, "deactivates": False},
    # Bencher: a removal is undone only by a new invite the person must accept
    "remove_member": {"system": "bencher", "expect": {"status": "member"}, "leave": {"status": "removed"},
                      "undoable": False, "deactivates": True},
    "set_role": {"system": "bencher", "role": ("leader",), "undoable": True, "deactivates": False},
}
SYSTEM_ACTIONS = {s: [a for a, d in ACTIONS.items() if d["system"] == s] for s in ("benchling", "paradime", "bencher")}
PARADIME_ACCOUNT_TYPES = ("ADMIN", "DEVELOPER", "BUSINESS", "BILLING_ADMIN", "SECURITY_ADMIN",
                          "WORKSPACE_SETTINGS_ADMIN", "WORKSPACE_ADMIN", "ANALYST", "SANDBOX_USER")


@dataclass
class Action:
    """One write: `system`, `scope` (Benchling: the tenant for users, the team id for memberships;
    Paradime: the workspace; Bencher: the organization slug), `account_id` and what to do."""

    system: str
    scope: str
    account_id: str
    action: str
    expected: dict[str, Any]
    result: dict[str, Any]
    undoable: bool
    reason: str
    email: str | None = None
    name: str | None = None
    decision: dict[str, Any] | None = None

    @property
    def key(self) -> str:
        return f"{self.system}/{self.scope}/{self.account_id}/{self.action}"

    @property
    def deactivates(self) -> bool:
        return bool(ACTIONS[self.action]["deactivates"])

    def describe(self) -> str:
        who = self.email or self.account_id
        return f"{self.system} {self.action} {who} ({self.account_id}) in {self.scope}"


def make_action(system: str, scope: str, account_id: str, action: str, current: dict[str, Any], reason: str,
                role: str | None = None, email: str | None = None, name: str | None = None,
                decision: dict[str, Any] | None = None) -> Action:
    """An action with its expected and resulting state; `current` is the account's state in the warehouse
    (role changes expect the current role). Raises ConfigError for an action the system does not have."""
    spec = ACTIONS.get(action)
    if spec is None or spec["system"] != system:
        raise ConfigError(f"action {action!r} is not one of {system}'s: {', '.join(SYSTEM_ACTIONS.get(system, []))}")
    if "expect" in spec:
        expected, result = dict(spec["expect"]), dict(spec["leave"])
    else:
        allowed = spec["role"] or PARADIME_ACCOUNT_TYPES
        if role not in allowed:
            hint = (" (Bencher has one organization role; to take it away, remove_member)" if system == "bencher" else "")
            raise ConfigError(f"{action} of {account_id}: role {role!r} is not one of {', '.join(allowed)}{hint}")
        status = "member" if system in ("benchling", "bencher") else "active"
        expected = {"status": status, "role": current.get("role")}
        result = {"status": status, "role": role}
    return Action(system, scope, account_id, action, expected, result, bool(spec["undoable"]), reason, email, name,
                  decision)


def actions_sha256(actions: list[dict[str, Any]]) -> str:
    canonical = json.dumps(actions, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass
class Plan:
    run_id: str | None
    synced_at: str | None
    source: dict[str, Any]
    actions: list[Action]
    warehouse: str = ""
    created_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    sha256: str = ""

    def action_dicts(self) -> list[dict[str, Any]]:
        return [asdict(a) for a in self.actions]

    def to_json(self) -> dict[str, Any]:
        acts = self.action_dicts()
        return {"whsync_plan": PLAN_VERSION, "created_at": self.created_at, "warehouse": self.warehouse,
                "run_id": self.run_id, "synced_at": self.synced_at, "source": self.source,
                "actions_sha256": actions_sha256(acts), "actions": acts}

    def write(self, path: Path) -> str:
        body = self.to_json()
        self.sha256 = body["actions_sha256"]
        path.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return self.sha256


class PlanEditedError(ConfigError):
    """The plan's actions do not match its hash."""


def load_plan(path: Path) -> Plan:
    """Read a plan file; refuse one whose actions were edited after it was written (hash mismatch)."""
    try:
        body = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"plan {path}: no such file (write one with `whsync remediate plan --out {path}`)") from None
    except (OSError, ValueError) as e:
        raise ConfigError(f"plan {path} is not a whsync plan (not JSON: {type(e).__name__})") from None
    if not isinstance(body, dict) or body.get("whsync_plan") != PLAN_VERSION or not isinstance(body.get("actions"), list):
        raise ConfigError(f"plan {path} is not a whsync plan (version {PLAN_VERSION} with actions)")
    got = actions_sha256(body["actions"])
    if got != body.get("actions_sha256"):
        raise PlanEditedError(
            f"plan {path} was edited after it was written: its actions hash to {got[:12]}…, the plan says "
            f"{str(body.get('actions_sha256'))[:12]}…; nothing was applied. Make a new plan with `whsync remediate plan`")
    try:
        actions = [Action(**a) for a in body["actions"]]
    except TypeError as e:
        raise ConfigError(f"plan {path}: an action is malformed ({e})") from None
    plan = Plan(body.get("run_id"), body.get("synced_at"), body.get("source") or {}, actions,
                body.get("warehouse") or "", body.get("created_at") or "", got)
    return plan


def state_text(state: dict[str, Any] | None) -> str:
    if state is None:
        return "absent"
    return " ".join(f"{k}={v}" for k, v in state.items() if v is not None) or "-"
