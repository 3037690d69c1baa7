"""`start`, `status` and `close` of a campaign (imports are `decisions.py`)."""
from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from .. import sources
from . import ReviewError, ReviewIncomplete
from .model import (CAMPAIGN, DECISION, FLAGS, ITEM, LEFT_STATUSES, NOT_REVIEWED, is_privileged, item_hash,
                    population_hash, sort_key)
from .reviewers import assign, check_email, load_rules
from .store import locked, reading, write
from .workbook import write_workbook

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,59}")


def now_utc() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def parse_systems(text: str | None) -> list[str]:
    """`--systems`: any registered source (pipelines/sources.py); default, the applications (every source that
    is not a directory: Okta's facts are the campaign's directory flags, its accounts are reviewed only if named)."""
    if not text:
        return sources.reviewed()
    known = sources.names()
    out = []
    for part in text.split(","):
        p = part.strip().lower()
        if p not in known:
            raise ReviewError(f"--systems: unknown system {part.strip()!r}: use {', '.join(known)} "
                              f"(default: {','.join(sources.reviewed())})")
        out.append(p)
    return list(dict.fromkeys(out))


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name or ""):
        raise ReviewError(f"--name {name!r}: use letters, digits, '.', '_' or '-' (at most 60), e.g. q4-2026")
    return name


def _last_run(r: Any) -> dict[str, Any]:
    present = r.relations()
    missing = [n for n in ("sync_run", "access") if n not in present]
    if missing:
        raise ReviewError(f"{r.target.label()} has no {' or '.join(missing)}: run `whsync sync` first "
                          "(a campaign freezes the accounts of the latest published sync)")
    rows = r.rows("select run_id, started_at, finished_at from sync_run order by finished_at desc limit 1")
    if not rows:
        raise ReviewError(f"no published sync in {r.target.label()}: run `whsync sync` first")
    return rows[0]


def _naive_utc(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def population(r: Any, systems: list[str], inactive_days: int, at: datetime) -> list[dict[str, Any]]:
    """Every account of `access` in `systems`, with the report's flags: dormant (an active Benchling
    account unused for `inactive_days`), never used (checked, never seen), offboarding gap (`person`),
    privileged (examples/queries/access_admins_anywhere.sql); and the directory's (`model.DIRECTORY_FACTS`,
    from `person` when a directory was synced, else NULL): left the company / outside the directory on an
    active account of an application (the report's two lists), the person's directory status and `left_at`."""
    present = r.relations()
    activity = "user_activity" in present
    gap = "person" in present
    directory = gap and "outside_directory" in {c["column_name"] for c in r.rows(
        "select column_name from information_schema.columns where table_schema = ? and table_name = 'person'",
        [r.schema])}
    rows = r.rows(
        "select a.system, a.scope, a.account_id, a.email, a.name, a.status, a.role, a.last_seen, "
        + ("ua.user_id is not null as checked, " if activity else "false as checked, ")
        + ("coalesce(p.offboarding_gap, false) as offboarding_gap " if gap else "false as offboarding_gap ")
        + (", p.directory_status, p.left_at, p.outside_directory " if directory else "")
        + "from access a "
        + ("left join user_activity ua on a.system = 'benchling' and ua.user_id = a.account_id " if activity else "")
        + ("left join person p on p.email = a.email " if gap else ""))
    inactive_since = at - timedelta(days=inactive_days)
    directories = set(sources.directories())
    items = []
    for row in rows:
        if row["system"] not in systems:
            continue
        benchling_active = row["system"] == "benchling" and row["status"] == "active"
        last_seen = _naive_utc(row["last_seen"])
        items.append({
            "system": row["system"], "scope": row["scope"], "account_id": row["account_id"], "email": row["email"],
            "name": row["name"], "status": row["status"], "role": row["role"], "last_seen": last_seen,
            "dormant": bool(benchling_active and last_seen is not None and last_seen < inactive_since),
            "never_used": bool(benchling_active and row["checked"] and last_seen is None),
            "offboarding_gap": bool(row["offboarding_gap"]),
            "privileged": is_privileged(row["system"], row["status"], row["role"]),
            **_directory_facts(row, directories),
        })
    items.sort(key=sort_key)
    for i, item in enumerate(items, start=1):
        item["item_id"] = i
    return items


def _directory_facts(row: dict[str, Any], directories: set[str]) -> dict[str, Any]:
    """The item's directory facts: NULL when no directory was synced (`person.outside_directory` is NULL then,
    a boolean for every person otherwise)."""
    if row.get("outside_directory") is None:
        return {"directory_status": None, "left_company": None, "left_at": None, "outside_directory": None}
    flaggable = row["status"] == "active" and row["system"] not in directories
    return {
        "directory_status": row["directory_status"],
        "left_company": bool(flaggable and row["directory_status"] in LEFT_STATUSES),
        "left_at": _naive_utc(row["left_at"]),
        "outside_directory": bool(flaggable and row["outside_directory"]),
    }


def _teams(r: Any) -> dict[str, set[str]]:
    if not {"team_member", "team"} <= r.relations():
        return {}
    out: dict[str, set[str]] = {}
    for row in r.rows("select m.user_id, t.id, t.name from team_member m join team t on t.id = m.team_id"):
        out.setdefault(row["user_id"], set()).update(v for v in (row["id"], row["name"]) if v)
    return out


def start(target: Any, *, name: str | None, owner: str | None, systems: str | None, reviewers: Path | None,
          out: Path | None, inactive_days: int = 90, wait_seconds: float = 0.0) -> tuple[dict[str, Any], Path]:
    """Freeze the population of the latest published sync as a new campaign; write the workbook."""
    owner_email = check_email(owner, "--owner") if owner else None
    wanted = parse_systems(systems)
    rules = load_rules(reviewers) if reviewers else []
    if inactive_days < 1:
        raise ReviewError(f"--inactive-days {inactive_days}: give a number of days, 1 or more")
    created = now_utc()
    if name is not None:
        check_name(name)
    if out is not None and out.suffix.lower() not in (".xlsx", ".csv"):
        raise ReviewError(f"--out {out}: give a .xlsx (the workbook) or .csv file name")
    if out is not None and not out.resolve().parent.is_dir():
        raise ReviewError(f"--out {out}: the directory {out.resolve().parent} does not exist")
    with locked(target, wait_seconds):
        with reading(target) as r:
            run = _last_run(r)
            names = {c["name"] for c in r.campaigns()}
            if name is None:
                base = f"{created:%Y-%m-%d}"
                name = next(n for n in [base, *(f"{base}-{i}" for i in range(2, 1000))] if n not in names)
            elif name in names:
                raise ReviewError(f"a campaign named {name!r} already exists in {target.label()}: choose another --name")
            items = population(r, wanted, inactive_days, created)
            teams = _teams(r) if any(rule.team for rule in rules) else {}
        if not items:
            raise ReviewError(f"no account of {', '.join(wanted)} in `access` at the latest sync: nothing to review")
        assign(items, rules, owner_email, teams)
        campaign = {
            "campaign_id": str(uuid.uuid4()), "name": name, "owner": owner_email, "systems": ",".join(wanted),
            "run_id": run["run_id"], "synced_at": run["started_at"], "population_hash": population_hash(items),
            "items": len(items), "inactive_days": inactive_days, "created_at": created, "closed_at": None,
            "closed_by": None,
        }
        for item in items:
            item.update(campaign_id=campaign["campaign_id"], run_id=run["run_id"], item_hash=item_hash(item))
        with write(target) as w:
            w.insert(CAMPAIGN, [campaign])
            w.insert(ITEM, items)
    path = write_workbook(out or Path(f"review-{name}.xlsx"), campaign, items)
    return campaign, path


def export(target: Any, name: str, out: Path | None) -> Path:
    """The campaign's workbook again, with every current decision prefilled."""
    if out is not None and out.suffix.lower() not in (".xlsx", ".csv"):
        raise ReviewError(f"--out {out}: give a .xlsx (the workbook) or .csv file name")
    with reading(target) as r:
        campaign = r.campaign(name)
        items = r.items(campaign["campaign_id"])
        current = {int(c["item_id"]): c for c in r.current(campaign["campaign_id"]) if c["decision"]}
    return write_workbook(out or Path(f"review-{name}.xlsx"), campaign, items, current)


# -- status ----------------------------------------------------------------------------------------

def flag_counts(items: list[dict[str, Any]], current: list[dict[str, Any]]) -> dict[str, Any]:
    """Per flag (`model.FLAGS`): its items, decided and undecided, and the current decisions; a directory flag
    is None when the campaign was started without a directory (its items carry NULL)."""
    decided = {int(c["item_id"]): c["decision"] for c in current}
    out: dict[str, Any] = {}
    for flag in FLAGS:
        known = [i for i in items if i.get(flag) is not None]
        if not known:
            out[flag] = None
            continue
        flagged = [int(i["item_id"]) for i in known if i[flag]]
        decisions: dict[str, int] = {}
        for item_id in flagged:
            if decided.get(item_id):
                decisions[decided[item_id]] = decisions.get(decided[item_id], 0) + 1
        n = sum(decisions.values())
        out[flag] = {"items": len(flagged), "decided": n, "undecided": len(flagged) - n,
                     "decisions": dict(sorted(decisions.items()))}
    return out


def progress(campaign: dict[str, Any], current: list[dict[str, Any]],
             items: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Decided / undecided per reviewer and system, and per decision; with `items`, per flag too."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    decisions: dict[str, int] = {}
    for row in current:
        g = groups.setdefault((row["reviewer"], row["system"]), {"reviewer": row["reviewer"], "system": row["system"],
                                                                 "items": 0, "decided": 0, "undecided": 0})
        g["items"] += 1
        if row["decision"]:
            g["decided"] += 1
            decisions[row["decision"]] = decisions.get(row["decision"], 0) + 1
        else:
            g["undecided"] += 1
    rows = [groups[k] for k in sorted(groups)]
    undecided = sum(g["undecided"] for g in rows)
    return {
        "name": campaign["name"], "campaign_id": campaign["campaign_id"], "owner": campaign["owner"],
        "run_id": campaign["run_id"], "population_hash": campaign["population_hash"],
        "created_at": _iso(campaign["created_at"]), "closed_at": _iso(campaign["closed_at"]),
        "state": "closed" if campaign["closed_at"] else "open",
        "items": len(current), "decided": len(current) - undecided, "undecided": undecided,
        "complete": undecided == 0, "decisions": dict(sorted(decisions.items())), "by_reviewer_system": rows,
        **({"flags": flag_counts(items, current)} if items is not None else {}),
    }


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds") + "Z"


def status(target: Any, name: str | None) -> list[dict[str, Any]]:
    """The progress of campaign `name`, or of every open campaign."""
    with reading(target) as r:
        if name is not None:
            campaigns = [r.campaign(name)]
        else:
            campaigns = [c for c in r.campaigns() if not c["closed_at"]]
        return [progress(c, r.current(c["campaign_id"]), r.items(c["campaign_id"])) for c in campaigns]


# -- close -----------------------------------------------------------------------------------------

def close(target: Any, name: str, *, allow_undecided: bool, by: str | None,
          wait_seconds: float = 0.0) -> dict[str, Any]:
    """Close the campaign; undecided rows refuse it, unless `allow_undecided` records them `not_reviewed`."""
    with locked(target, wait_seconds):
        with reading(target) as r:
            campaign = r.campaign(name)
            if campaign["closed_at"]:
                raise ReviewError(f"campaign {name!r} was closed at {campaign['closed_at']:%Y-%m-%d %H:%M} UTC "
                                  f"by {campaign['closed_by']}: nothing to do")
            closer = check_email(by, "--by") if by else campaign["owner"]
            if not closer:
                raise ReviewError(f"campaign {name!r} has no owner: say who closes it with --by EMAIL")
            current = r.current(campaign["campaign_id"])
            last_seq = r.rows(f"select max(seq) as s from {DECISION} where campaign_id = ?",
                              [campaign["campaign_id"]])[0]["s"] or 0
        undecided = [row for row in current if not row["decision"]]
        if undecided and not allow_undecided:
            per: dict[str, int] = {}
            for row in undecided:
                per[row["reviewer"]] = per.get(row["reviewer"], 0) + 1
            raise ReviewIncomplete(
                f"campaign {name!r} has {len(undecided)} undecided rows ("
                + ", ".join(f"{k}: {v}" for k, v in sorted(per.items()))
                + "): import their decisions, or close with --allow-undecided to record them as not_reviewed")
        at = now_utc()
        rows = [{
            "decision_id": str(uuid.uuid4()), "campaign_id": campaign["campaign_id"], "item_id": row["item_id"],
            "seq": last_seq + i, "decision": NOT_REVIEWED, "new_role": None,
            "justification": f"not decided when {closer} closed the campaign with --allow-undecided",
            "reviewer": row["reviewer"], "decided_at": at, "source": "close", "source_file": None,
            "source_sha256": None, "source_sheet": None, "source_row": None,
        } for i, row in enumerate(undecided, start=1)]
        with write(target) as w:
            w.insert(DECISION, rows)
            w.execute(f"update {w.rel(CAMPAIGN)} set closed_at = ?, closed_by = ? where campaign_id = ?",
                      [at, closer, campaign["campaign_id"]])
    return {"name": name, "closed_at": at, "closed_by": closer, "not_reviewed": len(rows), "items": len(current)}
