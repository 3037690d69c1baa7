"""Actions from the warehouse: `--offboard EMAIL` (every active account of a person in every synced system),
`--from FILE.csv` (rows of `system, scope, account_id, action, role, reason`) and `--review NAME` (the
revoke / change_role decisions of a closed campaign). Expected states come from the published warehouse
the plan is made from; `apply` checks them again against the live APIs."""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from ..settings import ConfigError
from .model import ACTIONS, Action, Plan, make_action


def _mark(target: Any) -> str:
    return "?" if target.name == "duckdb" else "%s"


class Warehouse:
    """The published warehouse, read once per plan."""

    def __init__(self, target: Any) -> None:
        self.target = target
        self.m = _mark(target)

    def rows(self, sql: str, params: Any = None) -> list[tuple]:
        with self.target.reader() as con:
            return con.execute(sql, params).fetchall()

    def last_run(self) -> tuple[str | None, str | None]:
        try:
            rows = self.rows("select run_id, started_at from sync_run order by finished_at desc limit 1")
        except Exception:  # noqa: BLE001 - a warehouse without a run log (never synced by this release)
            rows = []
        if not rows:
            raise ConfigError(f"no published sync in {self.target.label()}: run `whsync sync` first")
        return str(rows[0][0]), str(rows[0][1])

    def accounts(self, email: str) -> list[dict[str, Any]]:
        cols = ("email", "system", "scope", "account_id", "name", "status", "role")
        rows = self.rows(f"select {', '.join(cols)} from access where email = {self.m} order by system, scope, account_id",
                         [email.strip().lower()])
        return [dict(zip(cols, r)) for r in rows]

    def account(self, system: str, scope: str | None, account_id: str) -> dict[str, Any] | None:
        cols = ("email", "system", "scope", "account_id", "name", "status", "role")
        sql = f"select {', '.join(cols)} from access where system = {self.m} and account_id = {self.m}"
        params: list[Any] = [system, account_id]
        if scope:
            sql += f" and scope = {self.m}"
            params.append(scope)
        rows = self.rows(sql, params)
        return dict(zip(cols, rows[0])) if rows else None

    def membership(self, team_id: str, user_id: str) -> dict[str, Any] | None:
        rows = self.rows(f'select m.role, u.email, u.name from team_member m left join "user" u on u.id = m.user_id '
                         f"where m.team_id = {self.m} and m.user_id = {self.m}", [team_id, user_id])
        return {"role": rows[0][0], "email": rows[0][1], "name": rows[0][2]} if rows else None

    def tenant(self) -> str | None:
        rows = self.rows("select max(scope) from access where system = 'benchling'")
        return rows[0][0] if rows else None


def _state(system: str, status: str | None, role: str | None) -> dict[str, Any]:
    if system == "benchling":
        return {"status": status, "role": role}
    return {"status": "member" if system == "bencher" and status == "active" else status, "role": role}


def from_offboard(wh: Warehouse, emails: list[str], reason: str | None) -> list[Action]:
    """Every active account of each person: Benchling suspend, Paradime disable, Bencher remove_member."""
    out: list[Action] = []
    verbs = {"benchling": "suspend", "paradime": "disable", "bencher": "remove_member"}
    for email in emails:
        accounts = wh.accounts(email)
        if not accounts:
            raise ConfigError(f"--offboard {email}: no account with that email in {wh.target.label()} "
                              "(emails are matched lower-cased and trimmed); check the address")
        for a in accounts:
            if a["status"] != "active" or a["system"] not in verbs:
                continue
            out.append(make_action(a["system"], a["scope"], a["account_id"], verbs[a["system"]], _state(a["system"], "active", a["role"]),
                                   reason or f"offboarding {email.strip().lower()}", email=a["email"], name=a["name"],
                                   decision={"kind": "offboard", "email": email.strip().lower()}))
    return out


CSV_COLUMNS = ("system", "scope", "account_id", "action", "role", "reason")


def from_csv(wh: Warehouse, path: Path) -> list[Action]:
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as e:
        raise ConfigError(f"--from {path}: cannot be read ({type(e).__name__})") from None
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ConfigError(f"--from {path}: missing column(s) {', '.join(missing)}; the header must be "
                          f"{','.join(CSV_COLUMNS)}")
    out: list[Action] = []
    for n, row in enumerate(reader, start=2):
        r = {k: (row.get(k) or "").strip() for k in CSV_COLUMNS}
        where = f"--from {path} line {n}"
        if r["action"] not in ACTIONS:
            raise ConfigError(f"{where}: unknown action {r['action']!r}; one of {', '.join(ACTIONS)}")
        if ACTIONS[r["action"]]["system"] != r["system"]:
            raise ConfigError(f"{where}: {r['action']} is not an action of system {r['system']!r}")
        if not r["reason"]:
            raise ConfigError(f"{where}: the reason is empty (every action says why)")
        out.append(_csv_action(wh, r, where))
    return out


def _csv_action(wh: Warehouse, r: dict[str, str], where: str) -> Action:
    system, scope, acc, action = r["system"], r["scope"], r["account_id"], r["action"]
    decision = {"kind": "csv", "line": where.rsplit(" ", 1)[-1]}
    try:
        if system == "benchling" and action in ("remove_membership", "set_team_role"):
            m = wh.membership(scope, acc)
            if m is None:
                raise ConfigError(f"{where}: {acc} is not a member of team {scope!r} in the warehouse")
            return make_action(system, scope, acc, action, {"status": "member", "role": m["role"]}, r["reason"],
                               r["role"] or None, m["email"], m["name"], decision)
        a = wh.account(system, None if system == "benchling" else scope, acc)
        if a is None:
            raise ConfigError(f"{where}: no {system} account {acc!r}{'' if system == 'benchling' else ' in ' + repr(scope)} "
                              "in the warehouse")
        return make_action(system, a["scope"], acc, action, _state(system, a["status"], a["role"]), r["reason"],
                           r["role"] or None, a["email"], a["name"], decision)
    except ConfigError as e:
        msg = str(e)
        raise ConfigError(msg if msg.startswith(where) else f"{where}: {msg}") from None


def make_plan(target: Any, offboard: list[str], csv_path: Path | None, reason: str | None,
              review: str | None = None) -> Plan:
    given = sum(bool(x) for x in (offboard, csv_path, review))
    if given != 1:
        raise ConfigError("give one of --offboard EMAIL (repeatable), --from FILE.csv or --review NAME")
    wh = Warehouse(target)
    run_id, synced_at = wh.last_run()
    if offboard:
        actions, source = from_offboard(wh, offboard, reason), {"kind": "offboard", "emails": [e.strip().lower() for e in offboard]}
    elif csv_path:
        actions, source = from_csv(wh, csv_path), {"kind": "csv", "file": Path(csv_path).name}
    else:
        actions, source = from_review(wh, review), {"kind": "review", "campaign": review}
    seen: dict[str, Action] = {}
    for a in actions:
        if a.key in seen:
            raise ConfigError(f"the plan would hold {a.describe()} twice; keep one")
        seen[a.key] = a
    return Plan(run_id, synced_at, source, actions, warehouse=target.label())


def admin_teams(wh: Warehouse, user_id: str) -> list[str]:
    rows = wh.rows(f"select team_id from team_member where user_id = {wh.m} and role = 'ADMIN' order by team_id", [user_id])
    return [r[0] for r in rows]


def actions_for_decision(wh: Warehouse, item: dict[str, Any], decision: str, new_role: str | None, reason: str,
                         ref: dict[str, Any]) -> list[Action]:
    """The actions a review decision on one account (`item`: system, scope, account_id, email, name, status,
    role, as in `access`) comes to: `revoke` -> Benchling suspend, Paradime disable, Bencher remove_member;
    `change_role` -> Paradime set_account_type, Bencher set_role, and for a Benchling user (whose role in
    `access` is ADMIN when admin of a team) set_team_role on each team it administers (to MEMBER)."""
    system, acc = item["system"], item["account_id"]
    current = _state(system, item.get("status"), item.get("role"))
    common = {"email": item.get("email"), "name": item.get("name"), "decision": ref}
    if decision == "revoke":
        verb = {"benchling": "suspend", "paradime": "disable", "bencher": "remove_member"}[system]
        return [make_action(system, item["scope"], acc, verb, current, reason, **common)]
    if decision != "change_role":
        return []
    if system == "benchling":
        if new_role == "ADMIN":
            raise ConfigError(f"change_role of {acc} to ADMIN: say which team (a CSV plan with set_team_role)")
        return [make_action(system, team, acc, "set_team_role", {"status": "member", "role": "ADMIN"}, reason,
                            "MEMBER", **common) for team in admin_teams(wh, acc)]
    verb = {"paradime": "set_account_type", "bencher": "set_role"}[system]
    return [make_action(system, item["scope"], acc, verb, current, reason, new_role, **common)]


def from_review(wh: Warehouse, name: str) -> list[Action]:
    """The `revoke` / `change_role` decisions of a closed campaign (`review_campaign`, the current decision
    per item in `review_decision_current`), each action referring to its decision."""
    try:
        camp = wh.rows(f"select campaign_id, closed_at from review_campaign where name = {wh.m}", [name])
    except Exception:  # noqa: BLE001 - no review tables: no campaign was ever started here
        raise ConfigError(f"--review {name}: {wh.target.label()} has no review campaigns "
                          "(start one with `whsync review start`)") from None
    if not camp:
        raise ConfigError(f"--review {name}: no campaign of that name in {wh.target.label()} (`whsync review status` lists them)")
    campaign_id, closed_at = camp[0]
    if closed_at is None:
        raise ConfigError(f"--review {name}: the campaign is still open; close it first (`whsync review close {name}`)")
    cols = ("item_id", "system", "scope", "account_id", "email", "name", "status", "role", "decision", "new_role",
            "justification", "decided_by", "decided_at", "decision_id")
    rows = wh.rows(f"select {', '.join(cols)} from review_decision_current where campaign_id = {wh.m} "
                   "and decision in ('revoke', 'change_role') order by item_id", [campaign_id])
    out: list[Action] = []
    for r in rows:
        d = dict(zip(cols, r))
        ref = {"kind": "review", "campaign": name, "campaign_id": campaign_id, "item_id": int(d["item_id"]),
               "decision_id": d["decision_id"], "decision": d["decision"], "decided_by": d["decided_by"],
               "decided_at": str(d["decided_at"])}
        out += actions_for_decision(wh, d, d["decision"], d["new_role"], d["justification"] or d["decision"], ref)
    return out
