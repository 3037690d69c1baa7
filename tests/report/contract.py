"""Stand-ins for the relations the report reads from issues 11 and 12 ("Access history"; "Last user
activity, and one person across systems"), with exactly their documented names and columns, filled from a
synced warehouse plus known changes, and the lists the report must then show (computed here in Python,
independently of the report's SQL).

Why: those relations are built in parallel; until they land, this lets the report's preferred queries run
on both targets against the contract. Once they exist, the same assertions can run on real multi-sync
warehouses instead.

Works on DuckDB and PostgreSQL connections with `execute(sql, params)` (`?` placeholders are rewritten
for psycopg2).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

HISTORY_TABLES = {
    "user$history": "id varchar, handle varchar, name varchar, email varchar, is_suspended boolean, created_at timestamp",
    "principal$history": "id varchar, handle varchar, name varchar, email varchar, is_suspended boolean, "
                         "created_at timestamp",
    "team$history": "id varchar, name varchar, description varchar",
    "team_member$history": "id varchar, team_id varchar, user_id varchar, role varchar",
    "project$history": 'id varchar, source_id varchar, "archived$" boolean, "archive_purpose$" varchar, name varchar, '
                       "created_at timestamp, url varchar",
    "folder$history": 'id varchar, source_id varchar, "archived$" boolean, "archive_purpose$" varchar, '
                      "created_at timestamp, modified_at timestamp, name varchar, parent_folder_id varchar",
}
ACCESS_COLS = "email varchar, system varchar, scope varchar, account_id varchar, name varchar, status varchar, " \
              "role varchar, last_seen timestamp"
PERSON_COLS = "email varchar, name varchar, active_in integer, inactive_in integer, last_seen timestamp, " \
              "offboarding_gap boolean"
SCOPE = "tenant.benchling.test"


@dataclass
class Expected:
    t0: datetime
    t1: datetime
    changes: set[tuple] = field(default_factory=set)  # (changed_at, change, who, what, detail)
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
    _q(con, f'create table "{name}" ({cols}, valid_from timestamp, valid_to timestamp)' if name.endswith("$history")
       else f'create table "{name}" ({cols})')
    if rows:
        marks = ", ".join("?" * len(rows[0]))
        for r in rows:
            _q(con, f'insert into "{name}" values ({marks})', r)


def install(con: Any, now: datetime, inactive_days: int = 90, with_other_sources: bool = True) -> Expected:
    """Create the stand-ins in the warehouse schema of `con` and return what the report must show."""
    t0, t1 = now - timedelta(days=60), now - timedelta(days=30)
    exp = Expected(t0, t1)
    users = _q(con, 'select id, handle, name, email, is_suspended, created_at from "user" order by id')
    principals = _q(con, "select id, handle, name, email, is_suspended, created_at from principal order by id")
    teams = _q(con, "select id, name, description from team order by id")
    members = _q(con, "select id, team_id, user_id, role from team_member order by id")
    projects = _q(con, 'select id, source_id, "archived$", "archive_purpose$", name, created_at, url '
                       'from "project$raw" order by id')
    folders = _q(con, 'select id, source_id, "archived$", "archive_purpose$", created_at, modified_at, name, '
                      'parent_folder_id from "folder$raw" order by id')
    team_name = {t[0]: t[1] for t in teams}
    who = {p[0]: p[1] or p[2] or p[0] for p in principals}
    by_id = {u[0]: u for u in users}

    # -- history: everything since t0; at t1 one grant, one revoke, one role change, a suspension, archivings
    def current(rows: list[tuple]) -> list[tuple]:
        return [(*r, t0, None) for r in rows]

    tm = current(members)
    granted = members[0]
    role_changed = next(m for m in members if m is not granted and m[3] in ("ADMIN", "MEMBER"))
    tm = [r for r in tm if r[0] not in (granted[0], role_changed[0])]
    tm.append((*granted, t1, None))
    old_role = "MEMBER" if role_changed[3] == "ADMIN" else "ADMIN"
    tm += [(role_changed[0], role_changed[1], role_changed[2], old_role, t0, t1), (*role_changed, t1, None)]
    outsider = next(u for u in users if not any(m[2] == u[0] and m[1] == teams[0][0] for m in members))
    tm.append(("tmem_revoked", teams[0][0], outsider[0], "MEMBER", t0, t1))
    exp.changes |= {
        (t1, "access granted", who[granted[2]], f"team {team_name[granted[1]]}", granted[3]),
        (t1, "role changed", who[role_changed[2]], f"team {team_name[role_changed[1]]}", f"{old_role} -> {role_changed[3]}"),
        (t1, "access revoked", who[outsider[0]], f"team {team_name[teams[0][0]]}", "MEMBER"),
    }
    suspended = next(u for u in users if u[4])
    uh = [(*u, t0, None) for u in users if u is not suspended]
    uh += [(*suspended[:4], False, suspended[5], t0, t1), (*suspended, t1, None)]
    exp.changes.add((t1, "suspended", suspended[1], f"user {suspended[3]}", None))

    def archive_one(rows: list[tuple], kind: str, name_at: int) -> list[tuple]:
        hit = next(r for r in rows if r[2])
        out = [(*r, t0, None) for r in rows if r is not hit]
        out += [(hit[0], hit[1], False, None, *hit[4:], t0, t1), (*hit, t1, None)]
        exp.changes.add((t1, "archived", None, f"{kind} {hit[name_at]}", hit[3]))
        return out

    _table(con, "user$history", HISTORY_TABLES["user$history"], uh)
    _table(con, "principal$history", HISTORY_TABLES["principal$history"], current(principals))
    _table(con, "team$history", HISTORY_TABLES["team$history"], current(teams))
    _table(con, "team_member$history", HISTORY_TABLES["team_member$history"], tm)
    _table(con, "project$history", HISTORY_TABLES["project$history"], archive_one(projects, "project", 4))
    _table(con, "folder$history", HISTORY_TABLES["folder$history"], archive_one(folders, "folder", 6))

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
