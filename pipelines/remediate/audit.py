"""The write-ahead, append-only audit: `remediation_action` in the warehouse schema.

Every action an apply decides on gets rows here, never updated or deleted: an `intent` row before its
API call and an `outcome` row after it (applied, already_applied, drifted, refused, failed). An action
whose newest row is an intent was interrupted between its call and its record: it is `unknown` until the
next apply of the same plan reads the live state and records the outcome it finds.

The table is written into the published warehouse while the apply holds the warehouse's lock (no sync
in between), each row in its own transaction (`Target.journal`), and is carried through every sync like
the history tables (`catalog.PERSISTENT_RELATIONS`); `grant-reader` covers it.

| column        | type      | meaning |
|---------------|-----------|---------|
| apply_id      | text      | one apply run (a UUID) |
| plan_sha256   | text      | the plan's `actions_sha256` |
| run_id        | text      | the sync the plan was made from |
| action_key    | text      | `system/scope/account_id/action`, unique within a plan |
| system, scope, account_id, email, action | text | what is acted on |
| target_role   | text      | the role a role change sets (NULL for other actions) |
| phase         | text      | `intent` (before the call) or `outcome` (after) |
| outcome       | text      | applied, already_applied, drifted, refused, failed (NULL on an intent) |
| cause         | text      | one line: the API's error, the guard, the drift, how an unknown was settled |
| before_state  | text      | JSON: the live state found before the call |
| after_state   | text      | JSON: the state the action leaves (intent), the live state after (outcome) |
| undoable      | boolean   | whether the API can undo it |
| operator      | text      | `--operator EMAIL` |
| decision      | text      | JSON: the decision the action comes from (campaign decision, offboarding, CSV line) |
| decision_id   | text      | the review decision (`review_decision.decision_id`) for a plan made with `--review`, else NULL |
| reason        | text      | why |
| recorded_at   | timestamp | UTC, when the row was written |
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

TABLE = "remediation_action"
COLUMNS: list[tuple[str, str]] = [
    ("apply_id", "text"), ("plan_sha256", "text"), ("run_id", "text"), ("action_key", "text"), ("system", "text"),
    ("scope", "text"), ("account_id", "text"), ("email", "text"), ("action", "text"), ("target_role", "text"), ("phase", "text"),
    ("outcome", "text"), ("cause", "text"), ("before_state", "text"), ("after_state", "text"), ("undoable", "boolean"),
    ("operator", "text"), ("decision", "text"), ("decision_id", "text"), ("reason", "text"), ("recorded_at", "timestamp"),
]
OUTCOMES = ("applied", "already_applied", "drifted", "refused", "failed")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def create_sql(qualified: str | None = None) -> str:
    return (f"create table if not exists {qualified or _q(TABLE)} ("
            + ", ".join(f"{c} {t}" for c, t in COLUMNS) + ")")


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _json(v: Any) -> str | None:
    return None if v is None else json.dumps(v, sort_keys=True, ensure_ascii=False)


class Audit:
    """Appends rows for one apply (`apply_id`) of one plan."""

    def __init__(self, target: Any, plan: Any, apply_id: str, operator: str | None) -> None:
        self.target, self.plan, self.apply_id, self.operator = target, plan, apply_id, operator
        self.mark = "?" if target.name == "duckdb" else "%s"
        self.created = False
        self.rows_written = 0
        self.seconds = 0.0  # spent writing the audit (DuckDB: opening the file for each write)
        self.recorded: dict[str, tuple[str, str | None]] = {}  # action key -> (outcome, cause) written by this apply

    def _ensure(self) -> None:
        if not self.created:
            self.target.journal(create_sql())
            self.created = True

    def _row(self, a: Any, phase: str, outcome: str | None, cause: str | None, before: Any, after: Any) -> list[Any]:
        cause = None if cause is None else " ".join(str(cause).split())[:500]
        return [self.apply_id, self.plan.sha256, self.plan.run_id, a.key, a.system, a.scope, a.account_id, a.email,
                a.action, a.result.get("role"), phase, outcome, cause, _json(before), _json(after), a.undoable, self.operator,
                _json(a.decision), (a.decision or {}).get("decision_id"), a.reason, _now()]

    def write(self, rows: list[list[Any]]) -> None:
        """Append rows (one transaction per 1,000). A write that fails stops the apply before its next call."""
        try:
            self._write(rows)
        except Exception as e:
            if "Could not set lock" in str(e):  # DuckDB: another process has the file open (a reader)
                from ..targets import TargetError

                raise TargetError(
                    f"the audit could not be written: {self.target.label()} is open in another process (a reader "
                    "holds it); close it and apply the plan again (it settles what was done). Nothing more was "
                    "sent after the last recorded action") from None
            raise

    def _write(self, rows: list[list[Any]]) -> None:
        if not rows:
            return
        import time

        t0 = time.monotonic()
        self._ensure()
        one = "(" + ", ".join(self.mark for _ in COLUMNS) + ")"
        for i in range(0, len(rows), 1000):  # 1,000 rows x 22 parameters: within PostgreSQL's 65,535
            chunk = rows[i:i + 1000]
            self.target.journal(f"insert into {_q(TABLE)} ({', '.join(c for c, _ in COLUMNS)}) values "
                                + ", ".join(one for _ in chunk), [v for r in chunk for v in r])
        self.rows_written += len(rows)
        self.seconds += time.monotonic() - t0

    def intents(self, items: list[tuple[Any, Any]]) -> None:
        """[(action, live state before)]: recorded before the call."""
        self.write([self._row(a, "intent", None, None, before, a.result) for a, before in items])

    def outcomes(self, items: list[tuple[Any, str, str | None, Any, Any]]) -> None:
        """[(action, outcome, cause, before, after)]: recorded after the call (or instead of one)."""
        self.write([self._row(a, "outcome", o, c, b, af) for a, o, c, b, af in items])
        for a, o, c, _, _ in items:
            self.recorded[a.key] = (o, c)


def latest(target: Any, plan_sha256: str) -> dict[str, dict[str, Any]]:
    """The newest row of each action of a plan: {action_key: {phase, outcome, cause, recorded_at}}."""
    mark = "?" if target.name == "duckdb" else "%s"
    try:
        with target.reader() as con:
            rows = con.execute(
                f"select action_key, phase, outcome, cause, recorded_at from {_q(TABLE)} where plan_sha256 = {mark} "
                "order by recorded_at, phase", [plan_sha256]).fetchall()
    except Exception:  # noqa: BLE001 - no table yet: nothing was ever applied
        return {}
    out: dict[str, dict[str, Any]] = {}
    for key, phase, outcome, cause, at in rows:
        out[key] = {"phase": phase, "outcome": outcome, "cause": cause, "recorded_at": at}
    return out
