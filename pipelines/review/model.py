"""The review tables, their DDL on both targets, and the canonical form of a population.

| relation | grain |
|---|---|
| `review_campaign` | one campaign: its name, owner, the sync it froze (`run_id`), the population's SHA-256 |
| `review_item` | one account of a campaign's frozen population (the facts of `access` then, and the flags) |
| `review_decision` | one decision, append-only: a later one on the same item supersedes, both are kept |
| `review_decision_current` | view: one row per item with its current decision (NULL: undecided) |

The canonical form of an item is a JSON array of its facts (`FACTS`, in that order, then — when the campaign
was started with a directory synced, i.e. `left_company` is not NULL — `DIRECTORY_FACTS`; times ISO 8601 UTC,
flags true/false, NULL as null) with no spaces; `item_hash` is its SHA-256. The population's canonical
form is the items' lines in `item_id` order (system, scope, account id), each ending with a newline, and
`population_hash` is its SHA-256: anyone can recompute it from `review_item` or the evidence pack's CSV.
A campaign started without a directory (or before the directory facts existed: `store.ensure` adds their
columns, NULL) has the same canonical form as before them, so its recorded hash still holds.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any, Iterable

CAMPAIGN, ITEM, DECISION, CURRENT = "review_campaign", "review_item", "review_decision", "review_decision_current"
TABLES = (CAMPAIGN, ITEM, DECISION)
RELATIONS = (*TABLES, CURRENT)  # tables first: a target carries them before the view over them

CAMPAIGN_COLUMNS: list[tuple[str, str]] = [
    ("campaign_id", "text"), ("name", "text"), ("owner", "text"), ("systems", "text"), ("run_id", "text"),
    ("synced_at", "timestamp"), ("population_hash", "text"), ("items", "bigint"), ("inactive_days", "bigint"),
    ("created_at", "timestamp"), ("closed_at", "timestamp"), ("closed_by", "text"),
]
FACTS: list[tuple[str, str]] = [
    ("system", "text"), ("scope", "text"), ("account_id", "text"), ("email", "text"), ("name", "text"),
    ("status", "text"), ("role", "text"), ("last_seen", "timestamp"), ("dormant", "boolean"),
    ("never_used", "boolean"), ("offboarding_gap", "boolean"), ("privileged", "boolean"),
]
# The directory's facts (Okta, through `person`), frozen with the item; all NULL when no directory was synced.
# `left_company`: the directory says the person left (SUSPENDED, DEPROVISIONED or deleted from it) and this
# account of another system is active (the report's "Left the company, still active"); `outside_directory`:
# an active account of a person who is no active directory user and did not leave by it (the report's "Accounts
# outside the directory"); `directory_status` and `left_at`: `person`'s, for every account of the person.
DIRECTORY_FACTS: list[tuple[str, str]] = [
    ("directory_status", "text"), ("left_company", "boolean"), ("left_at", "timestamp"),
    ("outside_directory", "boolean"),
]
# the directory statuses of a person who left (`int_person__directory`, examples/queries/directory_left_still_active.sql)
LEFT_STATUSES = ("SUSPENDED", "DEPROVISIONED", "DELETED")
ITEM_COLUMNS: list[tuple[str, str]] = [
    ("campaign_id", "text"), ("item_id", "bigint"), *FACTS, ("reviewer", "text"), ("run_id", "text"),
    ("item_hash", "text"), *DIRECTORY_FACTS,  # last: an older review_item gains them by `alter table add column`
]
# the flags of an item, as `review status` and the evidence pack count them
FLAGS = ("left_company", "outside_directory", "offboarding_gap", "dormant", "never_used", "privileged")
DECISION_COLUMNS: list[tuple[str, str]] = [
    ("decision_id", "text"), ("campaign_id", "text"), ("item_id", "bigint"), ("seq", "bigint"),
    ("decision", "text"), ("new_role", "text"), ("justification", "text"), ("reviewer", "text"),
    ("decided_at", "timestamp"), ("source", "text"), ("source_file", "text"), ("source_sha256", "text"),
    ("source_sheet", "text"), ("source_row", "bigint"),
]
COLUMNS = {CAMPAIGN: CAMPAIGN_COLUMNS, ITEM: ITEM_COLUMNS, DECISION: DECISION_COLUMNS}
CURRENT_COLUMNS = ["campaign_id", "item_id", "system", "scope", "account_id", "email", "name", "status", "role",
                   "reviewer", "decision", "new_role", "justification", "decided_by", "decided_at", "decision_id"]

DECISIONS = ("keep", "revoke", "change_role")  # what a reviewer may decide
NOT_REVIEWED = "not_reviewed"  # recorded by `close --allow-undecided`

# The roles a `change_role` may ask for, per system (`access.role`'s vocabulary): Benchling's is the
# account's team role (ADMIN of at least one team, else MEMBER); Paradime's account types; Bencher's
# organization role (the published API knows `leader` only).
ROLES: dict[str, tuple[str, ...]] = {
    "benchling": ("ADMIN", "MEMBER"),
    "paradime": ("ADMIN", "DEVELOPER", "BUSINESS", "BILLING_ADMIN", "SECURITY_ADMIN", "WORKSPACE_SETTINGS_ADMIN",
                 "WORKSPACE_ADMIN", "ANALYST", "SANDBOX_USER"),
    "bencher": ("leader",),
}


def is_privileged(system: str, status: str, role: str | None) -> bool:
    """The report's privileged accounts (examples/queries/access_admins_anywhere.sql) on an active account."""
    role = role or ""
    return status == "active" and ((system == "benchling" and role == "ADMIN")
                                   or (system == "paradime" and role.endswith("ADMIN"))
                                   or (system == "bencher" and role == "leader"))


def create_sql(relation: str, table: str) -> str:
    """`create table if not exists` for one review table; `relation` is its quoted, qualified name."""
    return f"create table if not exists {relation} (" + ", ".join(f"{c} {t}" for c, t in COLUMNS[table]) + ")"


def current_view_sql(rel: Any) -> str:
    """The view of the current decision per item; `rel(name)` gives a qualified relation name."""
    return f"""create view {rel(CURRENT)} as
select i.campaign_id, i.item_id, i.system, i.scope, i.account_id, i.email, i.name, i.status, i.role, i.reviewer,
       d.decision, d.new_role, d.justification, d.reviewer as decided_by, d.decided_at, d.decision_id
from {rel(ITEM)} as i
left join (
    select campaign_id, item_id, decision, new_role, justification, reviewer, decided_at, decision_id,
           row_number() over (partition by campaign_id, item_id order by seq desc) as rn
    from {rel(DECISION)}
) as d on d.campaign_id = i.campaign_id and d.item_id = i.item_id and d.rn = 1"""


# -- the canonical form --------------------------------------------------------------------------------

def _canonical_value(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "timestamp":
        return value.isoformat() if isinstance(value, datetime) else str(value)
    if kind == "boolean":
        return bool(value)
    return str(value)


def has_directory(item: dict[str, Any]) -> bool:
    """The item carries the directory's facts (its campaign was started with a directory synced)."""
    return item.get("left_company") is not None


def canonical_line(item: dict[str, Any]) -> str:
    """One item's facts as canonical JSON (no spaces, keys implied by `FACTS`' order, then `DIRECTORY_FACTS`'
    when the item carries them)."""
    facts = FACTS + DIRECTORY_FACTS if has_directory(item) else FACTS
    return json.dumps([_canonical_value(item.get(c), k) for c, k in facts], separators=(",", ":"), ensure_ascii=False)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def item_hash(item: dict[str, Any]) -> str:
    return sha256_text(canonical_line(item))


def population_hash(items: Iterable[dict[str, Any]]) -> str:
    """SHA-256 of the items' canonical lines in `item_id` order, each followed by a newline."""
    ordered = sorted(items, key=lambda i: int(i["item_id"]))
    return sha256_text("".join(canonical_line(i) + "\n" for i in ordered))


def sort_key(item: dict[str, Any]) -> tuple:
    return (item["system"] or "", item["scope"] or "", item["account_id"] or "")
