"""`whsync review import FILE --reviewer EMAIL`: validate a whole file, then record its decisions.

Every row must belong to the campaign (its `campaign_id`, `population_hash` and an `item_id` of it) with
its facts unchanged; a decision is keep, revoke or change_role; revoke and change_role need a
justification; change_role needs a `new_role` valid for the system (and different from the current one);
nobody decides on their own account; a reviewer decides on the rows assigned to them (the campaign owner
on any row). One bad row refuses the whole file, naming each bad row with its sheet and row, and nothing
is recorded. Decisions are appended: a row whose decision differs from the item's current one adds a
decision that supersedes it (both are kept); a row repeating the current decision adds nothing (whoever
made it: a re-exported workbook carries every current decision).
"""
from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import ReviewError
from .campaign import now_utc
from .model import DECISION, DECISIONS, NOT_REVIEWED, ROLES
from .reviewers import check_email, person
from .store import locked, reading, write
from .workbook import FACT_COLUMNS, FileRow, read_rows, row_values

MAX_LISTED = 20  # bad rows named in the one-line error (the count says how many more)


@dataclass
class ImportResult:
    campaign: str
    recorded: int = 0
    unchanged: int = 0
    undecided: int = 0
    by_decision: dict[str, int] = field(default_factory=dict)


def same_as_current(v: dict[str, str], cur: dict[str, Any] | None) -> bool:
    """The row repeats the item's current decision (e.g. a re-exported workbook): nothing to record."""
    return bool(cur) and (cur.get("decision"), cur.get("new_role") or "", cur.get("justification") or "") == \
        (v["decision"].lower(), v["new_role"], v["justification"])


def _row_error(row: FileRow, item: dict[str, Any] | None, campaign: dict[str, Any], reviewer: str,
               seen: dict[int, FileRow], path: Path, current: dict[str, Any] | None = None) -> str | None:
    v = row.values
    if v["campaign_id"] != campaign["campaign_id"] or v["population_hash"] != campaign["population_hash"]:
        return (f"belongs to another campaign (campaign_id {v['campaign_id'] or '-'}, population_hash "
                f"{(v['population_hash'] or '-')[:12]}…), not {campaign['name']!r}")
    if item is None:
        return f"item_id {v['item_id'] or '(empty)'} is not a row of campaign {campaign['name']!r}"
    expected = row_values(item, campaign)
    edited = [c for c in FACT_COLUMNS if c not in ("campaign_id", "population_hash")
              and str(expected[c] if expected[c] is not None else "") != v[c]]
    if edited:
        c = edited[0]
        return (f"the frozen column{'s' if len(edited) > 1 else ''} {', '.join(edited)} "
                f"{'were' if len(edited) > 1 else 'was'} edited ({c}: campaign {expected[c]!r}, file {v[c]!r}); "
                "facts cannot change: start a new campaign to review a newer sync")
    first = seen.get(int(item["item_id"]))
    if first is not None and first is not row:
        return f"item_id {item['item_id']} appears twice (also {first.where(path)})"
    decision = v["decision"].lower()
    if not decision:
        if v["new_role"] or v["justification"]:
            return "new_role or justification without a decision: choose keep, revoke or change_role, or clear them"
        return None
    if decision not in DECISIONS and not (decision == NOT_REVIEWED and same_as_current(v, current)):
        return f"unknown decision {v['decision']!r}: use keep, revoke or change_role"
    if same_as_current(v, current):
        return None  # unchanged: nothing is recorded, whoever decided it
    if person(item["email"]) == reviewer:
        return (f"{reviewer} cannot decide on their own account (self-review); its reviewer is {item['reviewer']}")
    if reviewer not in (item["reviewer"], campaign["owner"]):
        return f"assigned to {item['reviewer']}, not to {reviewer} (only the assigned reviewer or the owner decides)"
    if decision in ("revoke", "change_role") and not v["justification"]:
        return f"{decision} needs a justification: say why in the justification column"
    if decision == "change_role":
        roles = ROLES.get(item["system"], ())
        if not roles:
            return f"{item['system']} accounts have no role to change: choose keep or revoke"
        if not v["new_role"]:
            return f"change_role needs a new_role: one of {', '.join(roles)}"
        if v["new_role"] not in roles:
            return f"new_role {v['new_role']!r} is not a {item['system']} role: use one of {', '.join(roles)}"
        if v["new_role"] == item["role"]:
            return f"new_role {v['new_role']!r} is the account's current role: choose keep, or another role"
    elif v["new_role"]:
        return f"new_role is for change_role only (this row's decision is {decision}): clear it"
    return None


def import_file(target: Any, path: Path, reviewer: str, campaign_name: str | None = None,
                wait_seconds: float = 0.0) -> ImportResult:
    reviewer = check_email(reviewer, "--reviewer")
    path = Path(path)
    rows = list(read_rows(path))
    data = path.read_bytes()
    ids = {r.values["campaign_id"] for r in rows if r.values["campaign_id"]}
    if not rows or not ids:
        raise ReviewError(f"{path}: no review rows in it")
    with locked(target, wait_seconds):
        with reading(target) as r:
            if campaign_name is not None:
                campaign = r.campaign(campaign_name)
                if campaign["campaign_id"] not in ids:
                    raise ReviewError(f"{path} is a workbook of another campaign (campaign_id {sorted(ids)[0]}), not "
                                      f"{campaign_name!r}: import the file `whsync review start` wrote for it")
            else:
                known = [c for c in r.campaigns() if c["campaign_id"] in ids]
                if not known:
                    raise ReviewError(f"{path} is from a campaign this warehouse does not hold (campaign_id "
                                      f"{sorted(ids)[0]}): import it into the warehouse where it was started")
                campaign = known[0]
            if campaign["closed_at"]:
                raise ReviewError(f"campaign {campaign['name']!r} is closed: decisions can no longer be recorded")
            hashes = {x.values["population_hash"] for x in rows if x.values["campaign_id"] == campaign["campaign_id"]}
            if hashes != {campaign["population_hash"]}:
                raise ReviewError(f"{path}: its population hash differs from campaign {campaign['name']!r}'s "
                                  f"({campaign['population_hash'][:12]}…): it is not this campaign's workbook")
            items = {int(i["item_id"]): i for i in r.items(campaign["campaign_id"])}
            current = {int(c["item_id"]): c for c in r.current(campaign["campaign_id"])}
            last_seq = r.rows(f"select max(seq) as s from {DECISION} where campaign_id = ?",
                              [campaign["campaign_id"]])[0]["s"] or 0
        result = ImportResult(campaign["name"])
        errors: list[str] = []
        seen: dict[int, FileRow] = {}
        accepted: list[tuple[FileRow, dict[str, Any]]] = []
        for row in rows:
            item = items.get(_int(row.values["item_id"]))
            if item is not None:
                seen.setdefault(int(item["item_id"]), row)
            problem = _row_error(row, item, campaign, reviewer, seen, path,
                                 current.get(int(item["item_id"])) if item is not None else None)
            if problem:
                errors.append(f"{row.where(path)}: {problem}")
            elif not row.values["decision"]:
                result.undecided += 1
            else:
                accepted.append((row, item))
        if errors:
            listed = "; ".join(errors[:MAX_LISTED]) + (f"; and {len(errors) - MAX_LISTED} more" if len(errors) > MAX_LISTED else "")
            raise ReviewError(f"{path}: nothing recorded, {len(errors)} bad row{'s' if len(errors) > 1 else ''}: {listed}")
        at, sha = now_utc(), hashlib.sha256(data).hexdigest()
        new = []
        for row, item in accepted:
            v = row.values
            decision = v["decision"].lower()
            if same_as_current(v, current.get(int(item["item_id"]))):
                result.unchanged += 1
                continue
            new.append({
                "decision_id": str(uuid.uuid4()), "campaign_id": campaign["campaign_id"], "item_id": item["item_id"],
                "seq": last_seq + len(new) + 1, "decision": decision, "new_role": v["new_role"] or None,
                "justification": v["justification"] or None, "reviewer": reviewer, "decided_at": at,
                "source": "import", "source_file": path.name, "source_sha256": sha, "source_sheet": row.sheet,
                "source_row": row.row,
            })
            result.by_decision[decision] = result.by_decision.get(decision, 0) + 1
        if new:
            with write(target) as w:
                w.insert(DECISION, new)
        result.recorded = len(new)
    return result


def _int(text: str) -> int | None:
    try:
        return int(text)
    except (TypeError, ValueError):
        return None
