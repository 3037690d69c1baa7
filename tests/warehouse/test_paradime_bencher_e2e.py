"""End to end for Paradime and Bencher: the tricky fixtures served by their simulators, synced and built
by `sync(plans=[paradime_plan, bencher_plan])`, and the warehouse tables `paradime.user`,
`paradime.invited_user`, `paradime.workspace`, `bencher.organization` and `bencher.member` compared row
by row with what the fixture (and the changes made through the simulators' APIs) implies.

Expectations are computed here in Python from the fixture JSON, never by running the models' SQL.
Sync-time columns (excluded from "unchanged" comparisons): `last_listed_at` and `_synced_at`.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests

from pipelines.bencher.simulator import BencherSimulator
from pipelines.bencher.source import BencherConfig
from pipelines.paradime.simulator import ParadimeSimulator, load_fixture, user_uid
from pipelines.paradime.source import ParadimeWorkspaceConfig
from pipelines.progress import Progress
from pipelines.bencher.spec import bencher_plan
from pipelines.paradime.spec import paradime_plan
from pipelines.targets import resolve_target
from pipelines.sync import SyncResult, sync

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PD_FIXTURE = json.loads((FIXTURES / "paradime_tricky.json").read_text(encoding="utf-8"))
BC_FIXTURE = json.loads((FIXTURES / "bencher_tricky.json").read_text(encoding="utf-8"))

SYNC_TIME_COLUMNS = ("last_listed_at", "_synced_at")
# (table, key columns, compared columns in order)
TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "paradime.user": (("workspace", "uid"),
                      ("workspace", "workspace_uid", "uid", "email", "name", "account_type", "is_active")),
    "paradime.invited_user": (("workspace", "email"),
                              ("workspace", "workspace_uid", "email", "account_type", "invite_status", "is_pending")),
    "paradime.workspace": (("uid",), ("uid", "name", "is_listed")),
    "bencher.organization": (("uuid",),
                             ("uuid", "name", "slug", "created_at", "modified_at", "claimed_at", "has_license",
                              "is_listed")),
    "bencher.member": (("organization_uuid", "uuid"),
                       ("organization_uuid", "organization_slug", "uuid", "name", "slug", "email", "role",
                        "created_at", "modified_at", "is_member")),
}


def ts(s: str | None) -> datetime | None:
    """An RFC 3339 string as the naive-UTC timestamp the warehouse stores."""
    if s is None:
        return None
    return datetime.fromisoformat(s.replace("Z", "+00:00")).astimezone(timezone.utc).replace(tzinfo=None)


# -- expectations from the fixtures ----------------------------------------------------------------

def expected_paradime(fx: dict[str, Any]) -> dict[str, dict[tuple, tuple]]:
    users, invited, workspaces = {}, {}, {}
    for ws in fx["workspaces"]:
        workspaces[(ws["uid"],)] = (ws["uid"], ws["name"], True)
        for u in ws["activeUsers"]:
            if u.get("_disabled"):  # disabled before any sync: the API never returned it
                continue
            users[(ws["name"], u["uid"])] = (ws["name"], ws["uid"], u["uid"], u["email"], u["name"],
                                             u["accountType"], True)
        for i in ws["invitedUsers"]:
            invited[(ws["name"], i["email"])] = (ws["name"], ws["uid"], i["email"], i["accountType"],
                                                 i["inviteStatus"], True)
    return {"paradime.user": users, "paradime.invited_user": invited, "paradime.workspace": workspaces}


def expected_bencher(fx: dict[str, Any]) -> dict[str, dict[tuple, tuple]]:
    orgs, members = {}, {}
    for o in fx["organizations"]:
        if not o.get("_visible", True):  # the token cannot see it: 404, never listed
            continue
        orgs[(o["uuid"],)] = (o["uuid"], o["name"], o["slug"], ts(o["created"]), ts(o["modified"]),
                              ts(o.get("claimed")), bool(o.get("license")), True)
        for m in o.get("_members", []):
            members[(o["uuid"], m["uuid"])] = member_row(o, m, True)
    return {"bencher.organization": orgs, "bencher.member": members}


def member_row(org: dict[str, Any], m: dict[str, Any], is_member: bool) -> tuple:
    return (org["uuid"], org["slug"], m["uuid"], m["name"], m["slug"], m["email"], m["role"],
            ts(m["created"]), ts(m["modified"]), is_member)


# -- reading the warehouse -------------------------------------------------------------------------

def read(path: Path, table: str, with_sync_time: bool = False) -> dict[tuple, tuple]:
    keys, cols = TABLES[table]
    if with_sync_time:
        cols = cols + SYNC_TIME_COLUMNS
    con = duckdb.connect(str(path), read_only=True)
    try:
        schema, name = table.split(".")
        rows = con.execute(f'select {", ".join(cols)} from {schema}."{name}"').fetchall()
    finally:
        con.close()
    out = {}
    for r in rows:
        key = tuple(r[cols.index(k)] for k in keys)
        assert key not in out, f"{table}: duplicate key {key}"
        out[key] = tuple(r)
    return out


def assert_table(path: Path, table: str, want: dict[tuple, tuple]) -> None:
    got = read(path, table)
    missing = sorted(set(want) - set(got), key=str)
    extra = sorted(set(got) - set(want), key=str)
    assert not missing and not extra, f"{table}: missing {missing[:5]}, unexpected {extra[:5]}"
    diff = [(k, got[k], want[k]) for k in want if got[k] != want[k]]
    assert not diff, f"{table}: {len(diff)} rows differ, e.g. got/want {diff[:3]}"


# -- simulators and syncing ------------------------------------------------------------------------

@pytest.fixture
def sims():
    pd_fx = load_fixture(FIXTURES / "paradime_tricky.json")
    with ParadimeSimulator(pd_fx["workspaces"], api_key=pd_fx["api_key"], api_secret=pd_fx["api_secret"],
                           bearer_token=pd_fx["bearer_token"], port=0) as pd, \
            BencherSimulator(json.loads(json.dumps(BC_FIXTURE)), token=BC_FIXTURE["token"], port=0) as bc:
        yield pd, bc


def run_sync(pd: ParadimeSimulator, bc: BencherSimulator, warehouse: Path) -> SyncResult:
    configs = [
        ParadimeWorkspaceConfig(name=ws["name"], endpoint=pd.endpoint_for(ws["name"]),
                                api_key=PD_FIXTURE["api_key"], api_secret=PD_FIXTURE["api_secret"],
                                workspace_uid=ws["uid"])
        for ws in PD_FIXTURE["workspaces"]
    ]
    config = BencherConfig(token=BC_FIXTURE["token"], base_url=bc.base_url)
    return sync(plans=[paradime_plan(configs), bencher_plan(config)], target=resolve_target(duckdb=warehouse),
                progress=Progress(quiet=True))


def graphql(pd: ParadimeSimulator, workspace: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    r = requests.post(pd.endpoint_for(workspace), json={"query": query, "variables": variables}, timeout=10,
                      headers={"X-API-KEY": PD_FIXTURE["api_key"], "X-API-SECRET": PD_FIXTURE["api_secret"]})
    r.raise_for_status()
    body = r.json()
    assert "errors" not in body, body
    return body["data"]


def bencher(bc: BencherSimulator, method: str, path: str, **kw: Any) -> requests.Response:
    return requests.request(method, bc.base_url + path, timeout=10,
                            headers={"Authorization": f"Bearer {BC_FIXTURE['token']}"}, **kw)


def pd_user(workspace: str, email: str) -> dict[str, Any]:
    ws = next(w for w in PD_FIXTURE["workspaces"] if w["name"] == workspace)
    return next(u for u in ws["activeUsers"] if u["email"] == email)


def bc_org(slug: str) -> dict[str, Any]:
    return next(o for o in BC_FIXTURE["organizations"] if o["slug"] == slug)


# -- tests -----------------------------------------------------------------------------------------

def test_tricky_fixtures_land_row_for_row(sims, tmp_path):
    pd, bc = sims
    w = tmp_path / "w.duckdb"
    result = run_sync(pd, bc, w)
    assert result.dbt is not None and not result.dbt.failures

    # the fixtures really hold the tricky cases this test is about
    big = bc_org("big-lab")
    assert len(big["_members"]) > 255
    dora = pd_user("data-platform", "gone@acme.io")
    assert dora["_disabled"]
    analytics = next(ws for ws in PD_FIXTURE["workspaces"] if ws["name"] == "analytics")
    assert "matt@acme.io" in {i["email"] for i in analytics["invitedUsers"]}

    want = {**expected_paradime(PD_FIXTURE), **expected_bencher(BC_FIXTURE)}
    for table, rows in want.items():
        assert_table(w, table, rows)

    users = read(w, "paradime.user")
    invited = read(w, "paradime.invited_user")
    # an invited user who is also active in another workspace: both rows, each in its workspace
    matt = pd_user("data-platform", "matt@acme.io")
    assert users[("data-platform", matt["uid"])][5:] == ("DEVELOPER", True)
    assert invited[("analytics", "matt@acme.io")][3:] == ("ANALYST", "SENT", True)
    assert not any(k[0] == "analytics" and v[3] == "matt@acme.io" for k, v in users.items())
    # a user disabled before the first sync was never returned, so it is not in the warehouse
    assert ("data-platform", dora["uid"]) not in users
    # unicode names and an account type outside the SDK enum, verbatim
    assert users[("data-platform", pd_user("data-platform", "zoe@acme.io")["uid"])][4] == "Zoë 山田 Ñúñez"
    assert users[("analytics", pd_user("analytics", "future@acme.io")["uid"])][5] == "SOME_FUTURE_ROLE"
    assert invited[("analytics", "ünï@acme.io")][2] == "ünï@acme.io"

    members = read(w, "bencher.member")
    # more members than one page (per_page max 255): every one of them
    assert sum(1 for k in members if k[0] == big["uuid"]) == len(big["_members"])
    assert max(bc.stats()["per_page"]) <= 255
    # unicode member names
    zoe = next(m for m in bc_org("cloud-org")["_members"] if m["slug"] == "zoe-orsted")
    assert members[(bc_org("cloud-org")["uuid"], zoe["uuid"])][3] == "Zoë Ørsted-李"
    assert any("李" in v[3] for k, v in members.items() if k[0] == big["uuid"])
    # the hidden organization and its member are absent; the empty one is present with no member
    orgs = read(w, "bencher.organization")
    assert (bc_org("hidden-org")["uuid"],) not in orgs
    assert (bc_org("empty-org")["uuid"],) in orgs
    assert not any(k[0] == bc_org("empty-org")["uuid"] for k in members)
    # the license JWT is never stored, only whether there is one
    assert orgs[(bc_org("cloud-org")["uuid"],)][6] is True
    con = duckdb.connect(str(w), read_only=True)
    try:
        dump = "\n".join(str(r) for t in ("organization", "member")
                         for r in con.execute(f'select * from bencher."{t}"').fetchall())
        raw_cols = {r[0] for r in con.execute("describe bencher_raw.organizations").fetchall()}
    finally:
        con.close()
    assert bc_org("cloud-org")["license"] not in dump and "license" not in raw_cols


def test_changes_through_the_apis_show_exactly_in_the_warehouse(sims, tmp_path):
    pd, bc = sims
    w = tmp_path / "w.duckdb"
    run_sync(pd, bc, w)
    first = {t: read(w, t, with_sync_time=True) for t in TABLES}

    # -- Paradime: disable, change an account type, invite, accept an invite -----------------------
    matt = pd_user("data-platform", "matt@acme.io")
    priya = pd_user("analytics", "priya@acme.io")
    assert graphql(pd, "data-platform", "mutation D($uid: String!) { disableUser(uid: $uid) { ok } }",
                   {"uid": matt["uid"]}) == {"disableUser": {"ok": True}}
    assert graphql(pd, "analytics",
                   "mutation U($uid: String!, $t: UserAccountType!) { updateUserAccountType(uid: $uid, accountType: $t) { ok } }",
                   {"uid": priya["uid"], "t": "ADMIN"}) == {"updateUserAccountType": {"ok": True}}
    assert graphql(pd, "data-platform",
                   "mutation I($e: String!, $t: UserAccountType!) { inviteUser(email: $e, accountType: $t) { ok } }",
                   {"e": "newbie@acme.io", "t": "DEVELOPER"}) == {"inviteUser": {"ok": True}}
    # matt, just disabled in data-platform, accepts his invite to analytics
    matt_analytics_uid = pd.accept_invite("analytics", "matt@acme.io", "Matt McDonald")
    assert matt_analytics_uid == user_uid("k9x2m4p7q1w8e5t3", "matt@acme.io")

    # -- Bencher: remove a member, update a role, invite + accept, invite without accepting -------
    big, cloud, empty = bc_org("big-lab"), bc_org("cloud-org"), bc_org("empty-org")
    removed = next(m for m in big["_members"] if m["name"] == "李 Lovelace")
    assert bencher(bc, "DELETE", f"/v0/organizations/big-lab/members/{removed['uuid']}").status_code == 204
    patched_src = next(m for m in cloud["_members"] if m["slug"] == "ada-lovelace")
    r = bencher(bc, "PATCH", f"/v0/organizations/cloud-org/members/{patched_src['slug']}", json={"role": "leader"})
    assert r.status_code == 200
    patched = r.json()
    assert bencher(bc, "PATCH", "/v0/organizations/cloud-org/members/zoe-orsted",
                   json={"role": "member"}).status_code == 400  # not a role Bencher has today
    r = bencher(bc, "POST", "/v0/organizations/cloud-org/members",
                json={"email": "ngozi@example.com", "role": "leader", "name": "Ngozi Ørsted"})
    assert (r.status_code, r.json()) == (202, {"email": "ngozi@example.com"})
    r = requests.post(bc.base_url + "/_simulator/accept", timeout=10,
                      json={"organization": "cloud-org", "email": "ngozi@example.com"})
    assert r.status_code == 200
    joined = r.json()
    assert bencher(bc, "POST", "/v0/organizations/empty-org/members",
                   json={"email": "pending@example.com", "role": "leader"}).status_code == 202

    run_sync(pd, bc, w)

    # expected: the fixture plus exactly these changes
    want = {**expected_paradime(PD_FIXTURE), **expected_bencher(BC_FIXTURE)}
    u = want["paradime.user"]
    u[("data-platform", matt["uid"])] = u[("data-platform", matt["uid"])][:6] + (False,)  # kept, inactive
    u[("analytics", priya["uid"])] = u[("analytics", priya["uid"])][:5] + ("ADMIN", True)
    u[("analytics", matt_analytics_uid)] = ("analytics", "k9x2m4p7q1w8e5t3", matt_analytics_uid, "matt@acme.io",
                                            "Matt McDonald", "ANALYST", True)
    i = want["paradime.invited_user"]
    i[("analytics", "matt@acme.io")] = i[("analytics", "matt@acme.io")][:5] + (False,)  # accepted: kept
    i[("data-platform", "newbie@acme.io")] = ("data-platform", "r233tak125coyphm", "newbie@acme.io",
                                              "DEVELOPER", "SENT", True)
    m = want["bencher.member"]
    m[(big["uuid"], removed["uuid"])] = member_row(big, removed, False)  # removed: kept, marked
    m[(cloud["uuid"], patched_src["uuid"])] = member_row(cloud, {**patched_src, "modified": patched["modified"]},
                                                         True)
    m[(cloud["uuid"], joined["uuid"])] = member_row(cloud, joined, True)
    for table, rows in want.items():
        assert_table(w, table, rows)
    assert joined["name"] == "Ngozi Ørsted"
    assert not any(k[0] == empty["uuid"] for k in read(w, "bencher.member"))  # a pending invite is no member

    second = {t: read(w, t, with_sync_time=True) for t in TABLES}
    # vanished rows keep the sync time of the sync that last saw them; seen rows move on
    old_matt, new_matt = first["paradime.user"][("data-platform", matt["uid"])], \
        second["paradime.user"][("data-platform", matt["uid"])]
    assert new_matt[-2:] == old_matt[-2:]
    old_li, new_li = first["bencher.member"][(big["uuid"], removed["uuid"])], \
        second["bencher.member"][(big["uuid"], removed["uuid"])]
    assert new_li[-2:] == old_li[-2:]
    alex = pd_user("data-platform", "alexandra@acme.io")
    assert second["paradime.user"][("data-platform", alex["uid"])][-1] > \
        first["paradime.user"][("data-platform", alex["uid"])][-1]

    # a sync with no change leaves every table identical (sync-time columns aside)
    run_sync(pd, bc, w)
    for t in TABLES:
        third = read(w, t)
        assert third == {k: v[: -len(SYNC_TIME_COLUMNS)] for k, v in second[t].items()}, f"{t} changed"


def test_listed_marks_follow_the_latest_listing_of_their_scope(sims, tmp_path):
    """`bencher.organization.is_listed` and `paradime.workspace.is_listed` are decided by the latest sync that
    listed their scope: a sync limited to some organizations says nothing of the others, and an empty latest
    listing unlists every row it used to show."""
    pd, bc = sims
    w = tmp_path / "w.duckdb"
    run_sync(pd, bc, w)
    visible = {o["uuid"] for o in BC_FIXTURE["organizations"] if o.get("_visible", True)}
    workspaces = {ws["uid"] for ws in PD_FIXTURE["workspaces"]}

    def listed(table: str) -> dict[str, bool]:
        return {k[0]: v[-1] for k, v in read(w, table).items()}

    assert listed("bencher.organization") == dict.fromkeys(visible, True)
    assert listed("paradime.workspace") == dict.fromkeys(workspaces, True)

    only_cloud = BencherConfig(token=BC_FIXTURE["token"], base_url=bc.base_url, organizations=["cloud-org"])
    sync(plans=[bencher_plan(only_cloud)], target=resolve_target(duckdb=w), progress=Progress(quiet=True))
    assert len(visible) > 1 and listed("bencher.organization") == dict.fromkeys(visible, True)

    with bc.lock:  # every organization deleted or hidden from the token; every workspace deleted
        for o in bc.organizations:
            o["_visible"] = False
    pd.unlist(*(ws["name"] for ws in PD_FIXTURE["workspaces"]))
    run_sync(pd, bc, w)
    assert listed("bencher.organization") == dict.fromkeys(visible, False)
    assert listed("paradime.workspace") == dict.fromkeys(workspaces, False)
