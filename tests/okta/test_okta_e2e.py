"""End to end: the tricky Okta org (all eight statuses, one person with two users whose emails differ in case
and spaces, a STAGED user, group- and user-assigned app users, 3 pages of users) and a Bencher organization
whose members are some of the same people, synced twice into DuckDB and PostgreSQL; between the syncs a
DEPROVISIONED user is deleted from Okta. Every okta table, `access` and `person` are exactly the expected
rows on both targets, and the deleted user's history version gets the second sync's start as `valid_to`."""
from __future__ import annotations

import copy
from datetime import datetime, timezone
from typing import Any, Iterator

import duckdb
import pytest
import requests

from pipelines.bencher.simulator import BencherSimulator
from pipelines.bencher.source import BencherConfig
from pipelines.okta.simulator import OktaSimulator
from pipelines.okta.source import OktaConfig
from pipelines.progress import Progress
from pipelines.bencher.spec import bencher_plan
from pipelines.okta.spec import okta_plan
from pipelines.sync import sync
from pipelines.targets import resolve_target
from pipelines.targets.pgconn import PgConfig
from tests.helpers import tricky_fixture
from tests.postgres.conftest import PgCon, pg_server  # noqa: F401 - the session's PostgreSQL server

BC_TOKEN = "bencher_user_okta_e2e_token"
DELETED = "00u09ivy"


def member(i: int, name: str, email: str) -> dict[str, Any]:
    return {"uuid": f"00000000-0000-4000-8000-{i:012d}", "name": name, "slug": f"m{i}", "email": email,
            "role": "leader", "created": "2025-01-01T00:00:00Z", "modified": "2025-01-01T00:00:00Z"}


BENCHER = {"token": BC_TOKEN, "organizations": [{
    "uuid": "10000000-0000-4000-8000-000000000001", "name": "Lab Bench", "slug": "lab-bench",
    "created": "2025-01-01T00:00:00Z", "modified": "2025-01-01T00:00:00Z", "claimed": None, "license": None,
    "_members": [member(1, "Ada L.", "ada.lovelace@lab.org"), member(2, "Gus S.", "gus@lab.org"),
                 member(3, "Hal G.", "hal@lab.org"), member(4, "Ivy D.", "Ivy@Lab.org"),
                 member(5, "Cy S.", "cy@lab.org"), member(6, "Contractor", "contractor@ext.io"),
                 member(7, "Zoë B.", "zoe@lab.org")]}]}


def t(s: str | None) -> datetime | None:
    return None if s is None else datetime.fromisoformat(s.replace("Z", "+00:00")).astimezone(timezone.utc).replace(tzinfo=None)


@pytest.fixture(scope="module")
def synced(pg_server, tmp_path_factory) -> Iterator[dict[str, Any]]:  # noqa: F811
    fx = copy.deepcopy(tricky_fixture("okta"))
    duck = tmp_path_factory.mktemp("okta") / "w.duckdb"
    dsn = pg_server.dsn(pg_server.create_database())
    starts: dict[str, list[datetime]] = {"duckdb": [], "postgres": []}
    with OktaSimulator(fx) as ok, BencherSimulator(BENCHER, token=BC_TOKEN) as bc:
        for round_ in range(2):
            for name, where in (("duckdb", {"target": resolve_target(duckdb=duck)}),
                                ("postgres", {"target": resolve_target(postgres=PgConfig.from_dsn(dsn))})):
                plans = [okta_plan(OktaConfig(ok.org_url, api_token=fx["api_token"])),
                         bencher_plan(BencherConfig(token=BC_TOKEN, base_url=bc.base_url))]
                res = sync(plans=plans, progress=Progress(quiet=True), **where)
                assert res.dbt is not None and not res.dbt.failures
                starts[name].append(res.synced_at.astimezone(timezone.utc).replace(tzinfo=None))
            if round_ == 0:  # Ivy (DEPROVISIONED) is deleted from Okta
                r = requests.delete(f"{ok.org_url}/api/v1/users/{DELETED}", timeout=10,
                                    headers={"Authorization": f"SSWS {fx['api_token']}"})
                assert r.status_code == 204
        stats = ok.stats()
        host = ok.org_url.split("//", 1)[1]
    d = duckdb.connect(str(duck), read_only=True)
    p = PgCon(dsn)
    try:
        yield {"duckdb": d, "postgres": p, "fx": fx, "host": host, "starts": starts, "stats": stats, "dsn": dsn,
               "pg_server": pg_server, "duckdb_path": duck}
    finally:
        d.close()
        p.close()


def rows(con: Any, sql: str) -> set[tuple]:
    return set(map(tuple, con.execute(sql).fetchall()))


TARGETS = ["duckdb", "postgres"]


@pytest.mark.parametrize("target", TARGETS)
def test_every_okta_table_is_exactly_the_org(synced, target):
    con, fx = synced[target], synced["fx"]
    assert rows(con, 'select id, login, email, first_name, last_name, status, created, activated, status_changed, '
                     'last_login, last_updated, is_deleted from okta."user"') == {
        (u["id"], u["profile"]["login"], u["profile"]["email"], u["profile"]["firstName"], u["profile"]["lastName"],
         u["status"], t(u["created"]), t(u["activated"]), t(u["statusChanged"]), t(u["lastLogin"]), t(u["lastUpdated"]),
         u["id"] == DELETED) for u in fx["users"]}
    # the people who left are there: every DEPROVISIONED user, the deleted one included
    assert rows(con, "select id from okta.\"user\" where status = 'DEPROVISIONED'") == {
        ("00u08hal",), ("00u09ivy",), ("00u10ada",)}
    assert rows(con, 'select id, name, description, type, created, last_updated, last_membership_updated, is_deleted '
                     'from okta."group"') == {
        (g["id"], g["profile"]["name"], g["profile"]["description"], g["type"], t(g["created"]), t(g["lastUpdated"]),
         t(g["lastMembershipUpdated"]), False) for g in fx["groups"]}
    assert rows(con, "select group_id, user_id, is_member from okta.group_member") == {
        (g["id"], m, m != DELETED) for g in fx["groups"] for m in g["_members"]}
    assert rows(con, "select id, name, label, status, sign_on_mode, created, last_updated, is_deleted from okta.app") == {
        (a["id"], a["name"], a["label"], a["status"], a["signOnMode"], t(a["created"]), t(a["lastUpdated"]), False)
        for a in fx["apps"]}
    assert rows(con, "select app_id, user_id, status, scope, app_username, status_changed, is_assigned from okta.app_user") == {
        (a["id"], au["id"], au["status"], au["scope"], au["credentials"]["userName"], t(au["statusChanged"]),
         au["id"] != DELETED) for a in fx["apps"] for au in a["_users"]}
    # both kinds of assignment of the Benchling app
    assert rows(con, "select user_id, scope from okta.app_user where app_id = '0oa1bench' and is_assigned") == {
        ("00u01ada", "GROUP"), ("00u07gus", "GROUP"), ("00u08hal", "GROUP"), ("00u02bob", "USER")}


@pytest.mark.parametrize("target", TARGETS)
def test_the_deleted_user_gets_its_valid_to(synced, target):
    con = synced[target]
    first, second = synced["starts"][target]
    assert rows(con, 'select id, status, valid_from, valid_to from okta."user$history" where id = \'00u09ivy\'') == {
        (DELETED, "DEPROVISIONED", first, second)}
    assert rows(con, 'select count(*) from okta."user$history" where valid_to is null') == {(11,)}
    assert rows(con, 'select group_id, valid_to from okta."group_member$history" where user_id = \'00u09ivy\'') == {
        ("00g1every", second), ("00g2lab", second)}
    assert rows(con, 'select app_id, scope, valid_to from okta."app_user$history" where user_id = \'00u09ivy\'') == {
        ("0oa1bench", "GROUP", second)}
    assert rows(con, 'select count(*) from okta."app_user$history" where valid_to is null') == {(6,)}


def okta_status(u: dict[str, Any]) -> str:
    if u["id"] == DELETED:
        return "removed"
    return {"SUSPENDED": "suspended", "STAGED": "invited", "DEPROVISIONED": "removed"}.get(u["status"], "active")


@pytest.mark.parametrize("target", TARGETS)
def test_access_has_okta_accounts_with_the_status_mapping(synced, target):
    con, fx, host = synced[target], synced["fx"], synced["host"]
    assert rows(con, "select email, system, scope, account_id, name, status, role, last_seen from access "
                     "where system = 'okta'") == {
        (u["profile"]["email"].strip().lower(), "okta", host, u["id"], f'{u["profile"]["firstName"]} {u["profile"]["lastName"]}',
         okta_status(u), None, t(u["lastLogin"])) for u in fx["users"]}
    assert rows(con, "select count(*) from access where system = 'bencher'") == {(7,)}


EXPECTED_PERSON = {
    # email, name, active_in, inactive_in, offboarding_gap, directory_status, directory_status_changed,
    # directory_last_login, left_at, outside_directory
    ("ada.lovelace@lab.org", "Ada L.", 1, 0, False, "ACTIVE", t("2024-01-02T10:00:00Z"), t("2026-11-30T08:15:00Z"), None, False),
    ("bob@lab.org", "Bob Provis", 0, 0, False, "PROVISIONED", t("2024-02-01T09:30:00Z"), None, None, False),
    ("cy@lab.org", "Cy S.", 1, 0, False, "STAGED", None, None, None, True),
    ("dee@lab.org", "Dee Recovery", 0, 0, False, "RECOVERY", t("2026-10-01T12:00:00Z"), t("2026-09-30T12:00:00Z"), None, False),
    ("eve@lab.org", "Eve Expired", 0, 0, False, "PASSWORD_EXPIRED", t("2026-10-02T12:00:00Z"), t("2026-08-01T12:00:00Z"), None, False),
    ("fay@lab.org", "Fay Locked", 0, 0, False, "LOCKED_OUT", t("2026-10-03T12:00:00Z"), t("2026-10-03T11:00:00Z"), None, False),
    ("gus@lab.org", "Gus S.", 1, 0, True, "SUSPENDED", t("2026-09-15T17:00:00Z"), t("2026-09-15T09:00:00Z"), t("2026-09-15T17:00:00Z"), False),
    ("hal@lab.org", "Hal G.", 1, 0, True, "DEPROVISIONED", t("2026-07-31T18:00:00Z"), t("2026-07-31T09:00:00Z"), t("2026-07-31T18:00:00Z"), False),
    ("ivy@lab.org", "Ivy D.", 1, 0, True, "DELETED", t("2026-06-30T18:00:00Z"), t("2026-06-30T09:00:00Z"), t("2026-06-30T18:00:00Z"), False),
    ("contractor@ext.io", "Contractor", 1, 0, False, None, None, None, None, True),
    ("zoe@lab.org", "Zoë B.", 1, 0, False, "ACTIVE", t("2025-01-01T10:00:00Z"), t("2026-12-01T07:00:00Z"), None, False),
    ("kim@lab.org", "Kim Newhire", 0, 0, False, "ACTIVE", t("2026-11-20T10:00:00Z"), None, None, False),
}


@pytest.mark.parametrize("target", TARGETS)
def test_person_says_who_left_and_who_is_outside_the_directory(synced, target):
    con = synced[target]
    assert rows(con, "select email, name, active_in, inactive_in, offboarding_gap, directory_status, "
                     "directory_status_changed, directory_last_login, left_at, outside_directory from person") == EXPECTED_PERSON


def test_the_sync_listed_users_in_every_status_and_spent_the_floor(synced):
    st = synced["stats"]
    # 4 syncs (2 rounds x 2 targets): 3 pages of users, 1 of groups, 3 of members, 1 of apps, 3+1+1 of app users
    # (Benchling's 5 assignments at 2 a page; the second sync sees 4, still 2 pages)
    assert st["by_path"]["GET /api/v1/users"] == 4 * 3
    assert st["by_path"]["GET /api/v1/groups"] == 4
    assert st["by_path"]["GET /api/v1/groups/:id/users"] == 4 * 3
    assert st["by_path"]["GET /api/v1/apps/:id/users"] == 4 * (3 + 1 + 1) - 2  # 5 then 4 Benchling assignments
    assert st["rate_limited"] == 0


QUERIES = __import__("pathlib").Path(__file__).resolve().parents[2] / "examples" / "queries"


@pytest.mark.parametrize("target", TARGETS)
def test_left_still_active_and_outside_directory_queries(synced, target):
    con = synced[target]
    left = con.execute((QUERIES / "directory_left_still_active.sql").read_text()).fetchall()
    assert [tuple(r) for r in left] == [  # ordered by when they left
        ("ivy@lab.org", "Ivy D.", "DELETED", t("2026-06-30T18:00:00Z"), "bencher", "lab-bench", "00000000-0000-4000-8000-000000000004", "leader"),
        ("hal@lab.org", "Hal G.", "DEPROVISIONED", t("2026-07-31T18:00:00Z"), "bencher", "lab-bench", "00000000-0000-4000-8000-000000000003", "leader"),
        ("gus@lab.org", "Gus S.", "SUSPENDED", t("2026-09-15T17:00:00Z"), "bencher", "lab-bench", "00000000-0000-4000-8000-000000000002", "leader")]
    outside = con.execute((QUERIES / "directory_accounts_outside.sql").read_text()).fetchall()
    assert [tuple(r) for r in outside] == [
        ("contractor@ext.io", "Contractor", None, "bencher", "lab-bench", "00000000-0000-4000-8000-000000000006", "leader"),
        ("cy@lab.org", "Cy S.", "STAGED", "bencher", "lab-bench", "00000000-0000-4000-8000-000000000005", "leader")]


# the campaign's population (the applications: Bencher's members here) and its directory flags, by member:
# (email, directory_status, left_company, left_at, outside_directory)
EXPECTED_FLAGS = {
    "00000000-0000-4000-8000-000000000001": ("ada.lovelace@lab.org", "ACTIVE", False, None, False),
    "00000000-0000-4000-8000-000000000002": ("gus@lab.org", "SUSPENDED", True, t("2026-09-15T17:00:00Z"), False),
    "00000000-0000-4000-8000-000000000003": ("hal@lab.org", "DEPROVISIONED", True, t("2026-07-31T18:00:00Z"), False),
    "00000000-0000-4000-8000-000000000004": ("ivy@lab.org", "DELETED", True, t("2026-06-30T18:00:00Z"), False),
    "00000000-0000-4000-8000-000000000005": ("cy@lab.org", "STAGED", False, None, True),
    "00000000-0000-4000-8000-000000000006": ("contractor@ext.io", None, False, None, True),
    "00000000-0000-4000-8000-000000000007": ("zoe@lab.org", "ACTIVE", False, None, False),
}


@pytest.mark.parametrize("target", TARGETS)
def test_a_review_campaign_freezes_the_directory_flags(synced, target, tmp_path):
    """`whsync review start` on the synced org: Okta (the directory) is not a reviewed system by default; the
    accounts the two directory lists name are flagged, with the person's directory status and `left_at`, in
    review_item, the workbook, `review status` and the evidence pack, on both targets."""
    import csv
    import json
    import shutil

    from tests.review.common import population_sha256, whsync

    if target == "duckdb":
        wh = tmp_path / "w.duckdb"
        shutil.copyfile(synced["duckdb_path"], wh)
        where, env = ["--duckdb", str(wh)], {}
    else:  # the module's database itself: the review tables are new relations beside the synced ones
        where, env = ["--target", "postgres"], {"WHSYNC_POSTGRES_DSN": synced["dsn"]}
    p = whsync(["review", "start", "--name", "leavers", "--owner", "owner@lab.org", "--out", "c.csv", *where],
               tmp_path, env)
    assert p.returncode == 0, p.stderr
    con = duckdb.connect(str(wh), read_only=True) if target == "duckdb" else synced["postgres"]
    try:
        (systems,) = con.execute("select systems from review_campaign where name = 'leavers'").fetchone()
        cur = con.execute("select r.* from review_item r join review_campaign c on c.campaign_id = r.campaign_id "
                          "where c.name = 'leavers' order by item_id")
        names = [x[0] for x in cur.description]
        items = [dict(zip(names, r)) for r in cur.fetchall()]
        (recorded,) = con.execute("select population_hash from review_campaign where name = 'leavers'").fetchone()
    finally:
        if target == "duckdb":
            con.close()
    assert systems == "benchling,paradime,bencher" and {i["system"] for i in items} == {"bencher"}
    assert {i["account_id"]: (i["email"], i["directory_status"], i["left_company"], i["left_at"], i["outside_directory"])
            for i in items} == EXPECTED_FLAGS
    assert recorded == population_sha256(items)  # the canonical line with the directory's facts
    with open(tmp_path / "c.csv", newline="") as f:
        sheet = {r["account_id"]: (r["left_company"], r["left_at"], r["outside_directory"]) for r in csv.DictReader(f)}
    assert sheet == {k: (str(v[2]).lower(), str(v[3] or ""), str(v[4]).lower()) for k, v in EXPECTED_FLAGS.items()}
    p = whsync(["review", "status", "leavers", "--json", *where], tmp_path, env)
    assert p.returncode == 1, p.stderr
    flags = json.loads(p.stdout)["flags"]
    assert (flags["left_company"], flags["outside_directory"]) == (
        {"items": 3, "decided": 0, "undecided": 3, "decisions": {}},
        {"items": 2, "decided": 0, "undecided": 2, "decisions": {}})
    p = whsync(["review", "evidence", "leavers", "--out", "pack", *where], tmp_path, env)
    assert p.returncode == 0, p.stderr
    manifest = json.loads((tmp_path / "pack" / "manifest.json").read_text())
    assert (manifest["flags"]["left_company"], manifest["flags"]["outside_directory"]) == (3, 2)
    html = (tmp_path / "pack" / "summary.html").read_text()
    order = [html.index(f"<td data-col=\"email\">{e}</td>") for e in
             ("ivy@lab.org", "hal@lab.org", "gus@lab.org", "contractor@ext.io", "cy@lab.org")]
    assert order == sorted(order)  # left the company first, by when they left; then outside the directory


def test_grant_reader_covers_the_okta_tables_and_their_history(synced, tmp_path):
    admin = synced["postgres"]
    admin.execute("create role okta_reader login password 'okta-pw'")
    dsn = synced["dsn"]
    granted = resolve_target(postgres=PgConfig.from_dsn(dsn)).grant_reader(
        "okta_reader", resolve_target(postgres=PgConfig.from_dsn(dsn)).published_relations())
    for rel in ("okta.user", "okta.group", "okta.group_member", "okta.app", "okta.app_user",
                "okta.user$history", "okta.group_member$history", "okta.app_user$history"):
        assert rel in granted
    db = dsn.rsplit("/", 1)[1]
    reader = PgCon(synced["pg_server"].dsn(db, user="okta_reader", password="okta-pw"))
    try:
        assert reader.execute('select count(*) from okta."user"').fetchone() == (12,)
        assert reader.execute('select count(*) from okta."app_user$history"').fetchone() == (7,)
        with pytest.raises(Exception, match="permission denied"):
            reader.execute("select count(*) from okta_raw.users")
    finally:
        reader.close()


def test_without_okta_person_is_as_before_and_the_directory_columns_are_null(tmp_path):
    with BencherSimulator(BENCHER, token=BC_TOKEN) as bc:
        res = sync(plans=[bencher_plan(BencherConfig(token=BC_TOKEN, base_url=bc.base_url))],
                   target=resolve_target(duckdb=tmp_path / "w.duckdb"), progress=Progress(quiet=True))
    assert res.dbt is not None and not res.dbt.failures
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    try:
        assert rows(con, "select email, active_in, inactive_in, offboarding_gap, directory_status, directory_status_changed, "
                         "directory_last_login, left_at, outside_directory from person") == {
            (m["email"].lower(), 1, 0, False, None, None, None, None, None) for m in BENCHER["organizations"][0]["_members"]}
        assert rows(con, "select count(*) from information_schema.tables where table_schema in ('okta', 'okta_raw')") == {(0,)}
    finally:
        con.close()
