"""One person across Benchling, Paradime and Bencher, end to end on DuckDB and PostgreSQL.

The three simulators serve fixtures in which people overlap: emails differing in case and spaces, a person
suspended in Benchling but active in Paradime, an invite only, an expired invite, a plus-address, an app;
between two syncs a Paradime user is disabled and a Bencher member removed. `access` and `person` must
equal the rows written out below, exactly, on both targets; the analyst queries (examples/queries/access_*)
give the same answers on both. Two Benchling tenants synced into two PostgreSQL schemas each name their own
scope."""
from __future__ import annotations

import contextlib
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import duckdb
import pytest
import requests

from pipelines.bencher.simulator import BencherSimulator
from pipelines.bencher.source import BencherConfig
from pipelines.benchling.simulator import DEMO_API_KEY, BenchlingSimulator, Tenant
from pipelines.paradime.simulator import ParadimeSimulator, user_uid
from pipelines.paradime.simulator.server import ParadimeWorkspace
from pipelines.paradime.source import ParadimeWorkspaceConfig
from pipelines.progress import Progress
from pipelines.bencher.spec import bencher_plan
from pipelines.benchling.spec import benchling_plan, BenchlingConfig
from pipelines.paradime.spec import paradime_plan
from pipelines.targets import resolve_target
from pipelines.sync import sync
from pipelines.targets.pgconn import PgConfig

from .conftest import PgCon

NOW = datetime.now(timezone.utc).replace(microsecond=0)
WS_UID = "lab0analytics001"
PD_KEY, PD_SECRET, BC_TOKEN = "pk_people", "ps_people", "bencher_people_token"
QUERIES = Path(__file__).resolve().parents[2] / "examples" / "queries"


def ago(days: int) -> datetime:
    return (NOW - timedelta(days=days)).replace(tzinfo=None)


def iso(days: int) -> str:
    return (NOW - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def user(uid: str, name: str, email: str, suspended: bool, seen: int | None) -> dict[str, Any]:
    return {"id": uid, "name": name, "handle": uid[4:], "email": email, "isSuspended": suspended,
            "_lastSeen": None if seen is None else iso(seen)}


BENCHLING = {
    "users": [
        user("ent_ana", "Ana Lima", " Ana@Lab.org", False, 5),         # case + space; admin of a team
        user("ent_ben", "Ben Okafor", "ben@lab.org", True, 200),       # suspended here, active in Paradime
        user("ent_cat", "Cat Ng", "cat@lab.org", False, None),          # never seen
        user("ent_dan", "Dan Roy", "dan+lab@lab.org", False, 120),      # plus-address: not dan@lab.org
        user("ent_eve", "Eve Park", "eve@lab.org", False, 1),           # disabled in Paradime between syncs
    ],
    "apps": [{"id": "app_bot", "name": "Lab Bot", "description": "", "createdAt": "2024-01-01T00:00:00.000Z",
              "modifiedAt": "2024-01-01T00:00:00.000Z", "creator": {"id": "ent_ana", "handle": "ana", "name": "Ana Lima"},
              "apiURL": "https://x/api/v2/apps/app_bot", "webURL": "https://x/developer/apps/app_bot"}],
    "teams": [{"id": "team_lab", "name": "Lab", "organization": None}],
    "memberships": [
        {"teamId": "team_lab", "user": {"id": uid, "handle": h, "name": n}, "role": role}
        for uid, h, n, role in [("ent_ana", "ana", "Ana Lima", "ADMIN"), ("ent_ben", "ben", "Ben Okafor", "MEMBER"),
                                ("ent_dan", "dan", "Dan Roy", "MEMBER"), ("app_bot", "app_bot", "Lab Bot", "ADMIN")]
    ],
}


def pd_user(email: str, name: str, account_type: str) -> dict[str, Any]:
    return {"uid": user_uid(WS_UID, email.strip().lower()), "email": email, "name": name, "accountType": account_type}


PARADIME = [{
    "name": "analytics", "uid": WS_UID,
    "activeUsers": [pd_user("ANA@lab.org", "Ana Lima", "ADMIN"), pd_user("Ben@Lab.org", "Benjamin Okafor", "DEVELOPER"),
                    pd_user("eve@lab.org", "Eve Park", "ANALYST")],
    "invitedUsers": [{"email": "fay@lab.org", "accountType": "ANALYST", "inviteStatus": "SENT"},
                     {"email": "gus@lab.org", "accountType": "DEVELOPER", "inviteStatus": "EXPIRED"}],
}]

BENCHER = {"organizations": [{
    "uuid": "7e0b1c3a-0000-4000-8000-000000000001", "name": "Lab Bench", "slug": "lab-bench",
    "created": "2024-01-01T00:00:00Z", "modified": "2024-01-01T00:00:00Z", "claimed": None, "license": None,
    "_members": [
        {"uuid": f"7e0b1c3a-0000-4000-8000-00000000010{i}", "name": n, "slug": s, "email": e, "role": "leader",
         "created": "2024-01-01T00:00:00Z", "modified": "2024-01-01T00:00:00Z"}
        for i, (n, s, e) in enumerate([("Ana Lima", "ana", "ana@lab.org "), ("Dan Roy", "dan", "Dan@Lab.org"),
                                       ("Hal Berg", "hal", "hal@lab.org")])
    ],
}]}
BC_UUID = {m["slug"]: m["uuid"] for m in BENCHER["organizations"][0]["_members"]}


def expected_access(host: str) -> set[tuple]:
    """(email, system, scope, account_id, name, status, role, last_seen) after both syncs."""
    uid = lambda e: user_uid(WS_UID, e)  # noqa: E731
    return {
        ("ana@lab.org", "benchling", host, "ent_ana", "Ana Lima", "active", "ADMIN", ago(5)),
        ("ben@lab.org", "benchling", host, "ent_ben", "Ben Okafor", "suspended", "MEMBER", ago(200)),
        ("cat@lab.org", "benchling", host, "ent_cat", "Cat Ng", "active", "MEMBER", None),
        ("dan+lab@lab.org", "benchling", host, "ent_dan", "Dan Roy", "active", "MEMBER", ago(120)),
        ("eve@lab.org", "benchling", host, "ent_eve", "Eve Park", "active", "MEMBER", ago(1)),
        ("ana@lab.org", "paradime", "analytics", uid("ana@lab.org"), "Ana Lima", "active", "ADMIN", None),
        ("ben@lab.org", "paradime", "analytics", uid("ben@lab.org"), "Benjamin Okafor", "active", "DEVELOPER", None),
        ("eve@lab.org", "paradime", "analytics", uid("eve@lab.org"), "Eve Park", "removed", "ANALYST", None),
        ("fay@lab.org", "paradime", "analytics", "fay@lab.org", None, "invited", "ANALYST", None),
        ("gus@lab.org", "paradime", "analytics", "gus@lab.org", None, "invite_expired", "DEVELOPER", None),
        ("ana@lab.org", "bencher", "lab-bench", BC_UUID["ana"], "Ana Lima", "active", "leader", None),
        ("dan@lab.org", "bencher", "lab-bench", BC_UUID["dan"], "Dan Roy", "active", "leader", None),
        ("hal@lab.org", "bencher", "lab-bench", BC_UUID["hal"], "Hal Berg", "removed", "leader", None),
    }


EXPECTED_PERSON = {  # email, name, active_in, inactive_in, last_seen, offboarding_gap
    ("ana@lab.org", "Ana Lima", 3, 0, ago(5), False),
    ("ben@lab.org", "Benjamin Okafor", 1, 1, ago(200), True),  # the name of an active account first
    ("cat@lab.org", "Cat Ng", 1, 0, None, False),
    ("dan+lab@lab.org", "Dan Roy", 1, 0, ago(120), False),
    ("dan@lab.org", "Dan Roy", 1, 0, None, False),
    ("eve@lab.org", "Eve Park", 1, 1, ago(1), True),
    ("fay@lab.org", None, 0, 0, None, False),
    ("gus@lab.org", None, 0, 0, None, False),
    ("hal@lab.org", "Hal Berg", 0, 1, None, False),
}


@contextlib.contextmanager
def simulators() -> Iterator[tuple[BenchlingSimulator, ParadimeSimulator, BencherSimulator]]:
    with BenchlingSimulator(Tenant.from_dict(BENCHLING), api_key=DEMO_API_KEY, rate_limit="off") as bl, \
            ParadimeSimulator([ParadimeWorkspace.from_json(w) for w in PARADIME], api_key=PD_KEY,
                              api_secret=PD_SECRET) as pd, \
            BencherSimulator(BENCHER, token=BC_TOKEN) as bc:
        yield bl, pd, bc


def plans(bl: BenchlingSimulator, pd: ParadimeSimulator, bc: BencherSimulator) -> list[Any]:
    return [benchling_plan(BenchlingConfig(bl.base_url, api_key=DEMO_API_KEY)),
            paradime_plan([ParadimeWorkspaceConfig("analytics", pd.endpoint_for("analytics"), PD_KEY, PD_SECRET,
                                                   workspace_uid=WS_UID)]),
            bencher_plan(BencherConfig(token=BC_TOKEN, base_url=bc.base_url))]


@pytest.fixture(scope="module")
def synced(pg_server, tmp_path_factory) -> Iterator[dict[str, Any]]:
    """Both targets synced twice from the same simulators; between the syncs Eve is disabled in Paradime
    and Hal removed from the Bencher organization."""
    duck = tmp_path_factory.mktemp("people") / "w.duckdb"
    dsn = pg_server.dsn(pg_server.create_database())
    pg = PgConfig.from_dsn(dsn)
    with simulators() as (bl, pd, bc):
        for _ in range(2):
            for where in (resolve_target(duckdb=duck), resolve_target(postgres=pg)):
                res = sync(plans=plans(bl, pd, bc), progress=Progress(quiet=True), target=where)
                assert res.dbt is not None and not res.dbt.failures
            if _ == 0:
                r = requests.post(pd.endpoint_for("analytics"), timeout=10,
                                  headers={"X-API-KEY": PD_KEY, "X-API-SECRET": PD_SECRET},
                                  json={"query": "mutation D($uid: String!) { disableUser(uid: $uid) { ok } }",
                                        "variables": {"uid": user_uid(WS_UID, "eve@lab.org")}})
                assert r.json() == {"data": {"disableUser": {"ok": True}}}
                r = requests.delete(f"{bc.base_url}/v0/organizations/lab-bench/members/{BC_UUID['hal']}",
                                    headers={"Authorization": f"Bearer {BC_TOKEN}"}, timeout=10)
                assert r.status_code == 204
        host = bl.base_url.split("//", 1)[1].split("/", 1)[0]
    d = duckdb.connect(str(duck), read_only=True)
    p = PgCon(dsn)
    try:
        yield {"duckdb": d, "postgres": p, "host": host, "pg_server": pg_server, "dsn": dsn}
    finally:
        d.close()
        p.close()


def rows(con: Any, sql: str) -> set[tuple]:
    return set(map(tuple, con.execute(sql).fetchall()))


@pytest.mark.parametrize("target", ["duckdb", "postgres"])
def test_access_and_person_are_exactly_the_expected_rows(synced, target):
    con = synced[target]
    got = rows(con, "select email, system, scope, account_id, name, status, role, last_seen from access")
    assert got == expected_access(synced["host"])
    got = rows(con, "select email, name, active_in, inactive_in, last_seen, offboarding_gap from person")
    assert got == EXPECTED_PERSON
    # the app is a member (and admin) of a team, but not a person
    assert con.execute("select count(*) from principal where id = 'app_bot'").fetchone() == (1,)
    assert not rows(con, "select * from access where account_id = 'app_bot'")


def test_renamed_sync_columns_and_activity_view(synced):
    for con in (synced["duckdb"], synced["postgres"]):
        assert len(rows(con, "select last_listed_at from paradime.\"user\" where last_listed_at is not null")) == 2
        assert rows(con, "select user_id, last_seen from user_activity") == {
            ("ent_ana", ago(5)), ("ent_ben", ago(200)), ("ent_cat", None), ("ent_dan", ago(120)), ("ent_eve", ago(1))}


EXPECTED_QUERIES = {
    "access_dormant_90_days.sql": lambda h: {("dan+lab@lab.org", "Dan Roy", h, ago(120))},
    "access_never_seen.sql": lambda h: {("cat", "Cat Ng", "cat@lab.org")},
    "access_offboarding_gap.sql": lambda h: {
        ("ben@lab.org", "Benjamin Okafor", "benchling", h, "suspended", "MEMBER"),
        ("ben@lab.org", "Benjamin Okafor", "paradime", "analytics", "active", "DEVELOPER"),
        ("eve@lab.org", "Eve Park", "benchling", h, "active", "MEMBER"),
        ("eve@lab.org", "Eve Park", "paradime", "analytics", "removed", "ANALYST")},
    "access_admins_anywhere.sql": lambda h: {
        ("ana@lab.org", "Ana Lima", "benchling", h, "ADMIN"), ("ana@lab.org", "Ana Lima", "paradime", "analytics", "ADMIN"),
        ("ana@lab.org", "Ana Lima", "bencher", "lab-bench", "leader"), ("dan@lab.org", "Dan Roy", "bencher", "lab-bench", "leader")},
}


@pytest.mark.parametrize("query", sorted(EXPECTED_QUERIES))
def test_analyst_queries_answer_the_same_on_both_targets(synced, query):
    assert sorted(q.name for q in QUERIES.glob("access_*.sql")) == sorted(EXPECTED_QUERIES)
    sql = (QUERIES / query).read_text()
    d = synced["duckdb"].execute(sql).fetchall()
    p = synced["postgres"].execute(sql).fetchall()
    width = len(next(iter(EXPECTED_QUERIES[query](""))))  # then `checked_at`: each target's own sync time
    assert [r[:width] for r in d] == [r[:width] for r in p], f"{query}: DuckDB and PostgreSQL differ"
    assert all(isinstance(v, datetime) for r in d + p for v in r[width:])
    assert {tuple(r[:width]) for r in d} == EXPECTED_QUERIES[query](synced["host"])


def test_two_tenants_in_two_schemas_each_name_their_own_scope(synced):
    second = dict(BENCHLING, users=BENCHLING["users"][:2], memberships=BENCHLING["memberships"][:2])
    with BenchlingSimulator(Tenant.from_dict(second), api_key=DEMO_API_KEY, rate_limit="off") as sim:
        sync(plans=[benchling_plan(BenchlingConfig(sim.base_url, api_key=DEMO_API_KEY))], progress=Progress(quiet=True),
             target=resolve_target(postgres=PgConfig.from_dsn(synced["dsn"], schema="second")))
        host2 = sim.base_url.split("//", 1)[1].split("/", 1)[0]
    con = synced["postgres"]
    assert host2 != synced["host"]
    assert rows(con, "select distinct scope from second.access") == {(host2,)}
    assert rows(con, "select distinct scope from public.access where system = 'benchling'") == {(synced["host"],)}
    assert rows(con, "select email, status from second.access") == {("ana@lab.org", "active"), ("ben@lab.org", "suspended")}
