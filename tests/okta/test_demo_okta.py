"""The demo's directory (`whsync demo`: the session's demo warehouse, and a demo on PostgreSQL): the generated Okta org is in the
okta tables exactly (one planted leaver deleted between the demo's two syncs), and the people planted as
having left (deactivated, suspended, deleted) are exactly "Left the company, still active", each with an
active Benchling account; the two contractors are exactly "Accounts outside the directory"."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest

from pipelines.bencher.simulator import generate_fixture
from pipelines.benchling.simulator import generate_tenant
from pipelines.okta.simulator import demo_directory
from pipelines.paradime.simulator import generate_workspaces
from tests.postgres.conftest import PgCon, pg_server, whsync  # noqa: F401 - the session's PostgreSQL server

QUERIES = Path(__file__).resolve().parents[2] / "examples" / "queries"
# with the other readers of the session's `whsync demo` (its duckdb param), on the worker that made it
pytestmark = pytest.mark.xdist_group("demo")


def t(s):
    return None if s is None else datetime.fromisoformat(s.replace("Z", "+00:00")).astimezone(timezone.utc).replace(tzinfo=None)


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def demo(request, tmp_path_factory):
    seed = 7  # `whsync demo`'s default seed and sizes (pipelines/cli.py)
    tenant = generate_tenant(seed=seed, users=200, apps=10, teams=20, projects=50, folders=400,
                             present=datetime.now(timezone.utc))
    workspaces = generate_workspaces(seed=seed)
    bencher = generate_fixture(seed=seed)
    others = [(u["email"], u.get("name") or "") for ws in workspaces for u in ws.active_users if not u.get("_disabled")]
    others += [(m["email"], m["name"]) for o in bencher["organizations"] for m in o["_members"]]
    fx, doomed = demo_directory(seed, [(u["email"], u["name"], not u["isSuspended"]) for u in tenant.users], others)
    if request.param == "duckdb":
        con = duckdb.connect(str(request.getfixturevalue("demo_warehouse")), read_only=True)
    else:  # `whsync demo --target postgres`, as a user runs it
        server = request.getfixturevalue("pg_server")
        dsn = server.dsn(server.create_database())
        cwd = tmp_path_factory.mktemp("pgdemo")
        p = whsync(["demo", "--target", "postgres", "--quiet"], cwd, {"WHSYNC_POSTGRES_DSN": dsn}, timeout=600)
        assert p.returncode == 0, p.stderr
        con = PgCon(dsn)
    try:
        yield con, fx, doomed, tenant
    finally:
        con.close()


def test_the_demo_org_is_exactly_in_the_okta_tables(demo):
    con, fx, doomed, _ = demo
    got = set(con.execute('select id, email, status, status_changed, last_login, is_deleted from okta."user"').fetchall())
    assert got == {(u["id"], u["profile"]["email"], u["status"], t(u["statusChanged"]), t(u["lastLogin"]), u["id"] == doomed)
                   for u in fx["users"]}
    assert set(con.execute("select group_id, user_id, is_member from okta.group_member").fetchall()) == {
        (g["id"], m, m != doomed) for g in fx["groups"] for m in g["_members"]}
    assert set(con.execute("select app_id, user_id, scope, is_assigned from okta.app_user").fetchall()) == {
        (a["id"], au["id"], au["scope"], au["id"] != doomed) for a in fx["apps"] for au in a["_users"]}
    assert con.execute("select count(*) from okta.app").fetchone() == (len(fx["apps"]),)
    assert con.execute('select count(*) from okta."group"').fetchone() == (len(fx["groups"]),)


def test_the_planted_leavers_and_contractors_are_the_report_lists(demo):
    con, fx, doomed, tenant = demo
    left = {u["profile"]["email"]: ("DELETED" if u["id"] == doomed else u["status"])
            for u in fx["users"] if u["status"] in ("SUSPENDED", "DEPROVISIONED")}
    active_benchling = {u["email"] for u in tenant.users if not u["isSuspended"]}
    planted = {e: s for e, s in left.items() if e in active_benchling}
    assert sorted(planted.values()) == ["DELETED", "DEPROVISIONED", "DEPROVISIONED", "SUSPENDED"]
    rows = con.execute((QUERIES / "directory_left_still_active.sql").read_text()).fetchall()
    assert {(r[0], r[2]) for r in rows if r[4] == "benchling"} == set(planted.items())
    assert {r[0] for r in rows} == {e for e, _ in left.items()} & {r[0] for r in con.execute(
        "select email from access where system <> 'okta' and status = 'active'").fetchall()}
    outside = {r[0] for r in con.execute((QUERIES / "directory_accounts_outside.sql").read_text()).fetchall()}
    directory = {u["profile"]["email"].lower() for u in fx["users"]}
    active_elsewhere = {r[0] for r in con.execute("select email from access where system <> 'okta' and status = 'active'").fetchall()}
    inactive_dir = {u["profile"]["email"].lower() for u in fx["users"]
                    if u["status"] in ("STAGED",)}
    assert outside == (active_elsewhere - directory) | (active_elsewhere & inactive_dir)
    assert len(active_elsewhere - directory) == 2  # the two contractors


ACTIVE = ("ACTIVE", "PROVISIONED", "RECOVERY", "PASSWORD_EXPIRED", "LOCKED_OUT")


def test_the_demo_org_is_exactly_in_every_okta_table_access_and_person(demo):
    """The rest of the demo's directory, row for row: apps, groups, the okta accounts of `access` (the status
    mapping) and `person`'s directory columns for every directory user (the demo's emails are unique)."""
    con, fx, doomed, _ = demo
    assert set(con.execute("select id, name, label, status, sign_on_mode, created, last_updated, is_deleted "
                           "from okta.app").fetchall()) == {
        (a["id"], a["name"], a["label"], a["status"], a["signOnMode"], t(a["created"]), t(a["lastUpdated"]), False)
        for a in fx["apps"]}
    assert set(con.execute('select id, name, description, type, created, last_updated, last_membership_updated, '
                           'is_deleted from okta."group"').fetchall()) == {
        (g["id"], g["profile"]["name"], g["profile"]["description"], g["type"], t(g["created"]), t(g["lastUpdated"]),
         t(g["lastMembershipUpdated"]), False) for g in fx["groups"]}
    status = {u["id"]: "DELETED" if u["id"] == doomed else u["status"] for u in fx["users"]}
    mapped = {"SUSPENDED": "suspended", "STAGED": "invited", "DEPROVISIONED": "removed", "DELETED": "removed"}
    assert set(con.execute("select email, account_id, status, role, last_seen from access where system = 'okta'")
               .fetchall()) == {
        (u["profile"]["email"].strip().lower(), u["id"], "active" if status[u["id"]] in ACTIVE else mapped[status[u["id"]]],
         None, t(u["lastLogin"])) for u in fx["users"]}
    left = ("SUSPENDED", "DEPROVISIONED", "DELETED")
    assert set(con.execute("select p.email, p.directory_status, p.directory_status_changed, p.left_at from person p "
                           "where p.email in (select email from access where system = 'okta')").fetchall()) == {
        (u["profile"]["email"].strip().lower(), status[u["id"]], t(u["statusChanged"]),
         t(u["statusChanged"]) if status[u["id"]] in left else None) for u in fx["users"]}
