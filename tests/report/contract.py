"""Stand-ins for the relations the report reads from issue 12 ("Last user activity, and one person
across systems": `user_activity`, `access`, `person`), with exactly their documented names and columns,
filled from a synced warehouse, and the lists the report must then show (computed here in Python,
independently of the report's SQL). History (issue 11) is real: see test_report_history.py.

Why: issue 12 is being merged in parallel; until it lands, this lets the report's preferred queries run
on both targets against the contract. Once it exists, the same assertions run on the real relations.

Works on DuckDB and PostgreSQL connections with `execute(sql, params)` (`?` placeholders are rewritten
for psycopg2).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

ACCESS_COLS = "email varchar, system varchar, scope varchar, account_id varchar, name varchar, status varchar, " \
              "role varchar, last_seen timestamp"
PERSON_COLS = "email varchar, name varchar, active_in integer, inactive_in integer, last_seen timestamp, " \
              "offboarding_gap boolean"
SCOPE = "tenant.benchling.test"


@dataclass
class Expected:
    dormant: set[str] = field(default_factory=set)  # handles
    never_used: set[str] = field(default_factory=set)
    unchecked: set[str] = field(default_factory=set)
    gap: set[str] = field(default_factory=set)  # emails
    privileged: set[tuple] = field(default_factory=set)  # (system, scope, email)
    accounts: dict[tuple[str, str], int] = field(default_factory=dict)


def _q(con: Any, sql: str, params: Any = None) -> list[tuple]:
    pg = not hasattr(con, "sql")  # duckdb connections have .sql
    if pg:
        sql = sql.replace("?", "%s")
    cur = con.execute(sql, params) if params is not None else con.execute(sql)
    return list(cur.fetchall()) if cur.description else []


def _table(con: Any, name: str, cols: str, rows: list[tuple]) -> None:
    _q(con, f'create table "{name}" ({cols})')
    if rows:
        marks = ", ".join("?" * len(rows[0]))
        for r in rows:
            _q(con, f'insert into "{name}" values ({marks})', r)


def install(con: Any, now: datetime, inactive_days: int = 90, with_other_sources: bool = True) -> Expected:
    """Create the stand-ins in the warehouse schema of `con` and return what the report must show."""
    exp = Expected()
    users = _q(con, 'select id, handle, name, email, is_suspended, created_at from "user" order by id')
    members = _q(con, "select id, team_id, user_id, role from team_member order by id")
    suspended = next(u for u in users if u[4])

    # -- activity: by position, unchecked / never seen / dormant / recent
    activity, last_seen = [], {}
    for i, u in enumerate(users):
        bucket = i % 5
        if bucket == 0:
            if not u[4]:
                exp.unchecked.add(u[1])
            continue
        seen = None if bucket == 1 else now - timedelta(days=inactive_days + 110 if bucket == 2 else 2)
        activity.append((u[0], seen, now - timedelta(days=1)))
        last_seen[u[0]] = seen
        if not u[4]:
            (exp.never_used if seen is None else exp.dormant if bucket == 2 else set()).add(u[1])
    _table(con, "user_activity", "user_id varchar, last_seen timestamp, checked_at timestamp", activity)

    # -- access and person
    admins = {m[2] for m in members if m[3] == "ADMIN"}
    access = [((u[3] or "").strip().lower(), "benchling", SCOPE, u[0], u[2], "suspended" if u[4] else "active",
               "ADMIN" if u[0] in admins else "MEMBER", last_seen.get(u[0])) for u in users]
    if with_other_sources:
        for ws, uid, email, name, typ, active in _q(con, 'select workspace, uid, email, name, account_type, is_active '
                                                         'from paradime."user"'):
            access.append((email.strip().lower(), "paradime", ws, uid, name, "active" if active else "removed", typ, None))
        for ws, email, typ, status in _q(con, "select workspace, email, account_type, invite_status "
                                              "from paradime.invited_user where is_pending"):
            access.append((email.strip().lower(), "paradime", ws, email, None,
                           "invite_expired" if status.upper() == "EXPIRED" else "invited", typ, None))
        for org, uuid, email, name, role, member in _q(con, "select organization_slug, uuid, email, name, role, "
                                                            "is_member from bencher.member"):
            access.append((email.strip().lower(), "bencher", org, uuid, name, "active" if member else "removed", role, None))
    # the suspended Benchling user is still an active Paradime admin: the offboarding gap
    access.append((suspended[3].strip().lower(), "paradime", "workspace-x", "pd_gap", suspended[2], "active", "ADMIN", None))
    _table(con, "access", ACCESS_COLS, access)
    persons: dict[str, list[tuple]] = {}
    for a in access:
        persons.setdefault(a[0], []).append(a)
    person_rows = []
    for email, accts in persons.items():
        systems = {a[1] for a in accts}
        active = {a[1] for a in accts if a[5] == "active"}
        inactive = {s for s in systems if all(a[5] in ("suspended", "removed") for a in accts if a[1] == s)}
        seen = [a[7] for a in accts if a[1] == "benchling" and a[7] is not None]
        gap = bool(active and inactive)
        person_rows.append((email, max((a[4] for a in accts if a[4]), default=None), len(active), len(inactive),
                            max(seen, default=None), gap))
        if gap:
            exp.gap.add(email)
    _table(con, "person", PERSON_COLS, person_rows)

    for a in access:
        exp.accounts[(a[1], a[5])] = exp.accounts.get((a[1], a[5]), 0) + 1
        privileged = ((a[1] == "benchling" and a[6] == "ADMIN") or (a[1] == "paradime" and a[6].endswith("ADMIN"))
                      or (a[1] == "bencher" and a[6] == "leader"))
        if privileged and a[5] in ("active", "suspended", "invited"):
            exp.privileged.add((a[1], a[2], a[0]))
    return exp
