"""The state of each review decision's remediation, for the campaign's evidence pack: joined by
`decision_id` from the audit (`remediation_action`) and its verification (`remediation_verification`).

State of one decision (a decision may take several actions, e.g. a Benchling role change per team): the
first that holds of `reverted` (a later sync shows an applied action undone), `failed` / `refused` /
`drifted` / `unknown` (an action's newest row says so; `unknown`: an intent without an outcome),
`not_verified` (applied, no later sync shows it yet), `already_applied` (found done by the live check),
`verified` (every action applied and shown by a later sync); a decision without rows keeps the evidence
pack's own `decided` (nothing applied for it in this warehouse)."""
from __future__ import annotations

from typing import Any

ORDER = ("reverted", "failed", "refused", "drifted", "unknown", "not_verified", "already_applied", "verified")


def remediation_states(con: Any, decision_ids: list[str]) -> dict[str, tuple[str, str]]:
    """{decision_id: (state, one-line detail)} for the decisions that have remediation rows; `con` is a
    `targets.Reader` (or anything with DuckDB's `execute(sql).fetchall()`)."""
    if not decision_ids:
        return {}
    try:
        rows = con.execute("select decision_id, action_key, action, phase, outcome, cause from remediation_action "
                           "where decision_id is not null order by recorded_at, phase").fetchall()
    except Exception:  # noqa: BLE001 - nothing was ever applied in this warehouse
        return {}
    try:
        ver = {(k, d): v for k, d, v in con.execute(
            "select action_key, decision_id, verification from remediation_verification where decision_id is not null").fetchall()}
    except Exception:  # noqa: BLE001 - the view comes with the next sync
        ver = {}
    wanted = set(decision_ids)
    latest: dict[tuple[str, str], tuple[str, str, str | None, str | None]] = {}
    for did, key, action, phase, outcome, cause in rows:
        if did in wanted:
            latest[(key, did)] = (action, phase, outcome, cause)
    per: dict[str, list[tuple[str, str]]] = {}
    for (key, did), (action, phase, outcome, cause) in latest.items():
        if phase == "intent":
            state = "unknown"
        elif outcome in ("applied", "already_applied"):
            state = ver.get((key, did), "not_verified") if outcome == "applied" else "already_applied"
        else:
            state = outcome or "unknown"
        per.setdefault(did, []).append((state, f"{action} {state}" + (f" ({cause})" if cause and state != "verified" else "")))
    out = {}
    for did, items in per.items():
        state = next(s for s in ORDER if any(s == st for st, _ in items))
        out[did] = (state, "; ".join(d for _, d in items))
    return out
