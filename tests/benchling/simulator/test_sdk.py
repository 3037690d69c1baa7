"""benchling-sdk, Benchling's own client, pointed at the simulator (1.25 takes archive_reason as a str)."""
from benchling_sdk.auth.api_key_auth import ApiKeyAuth
from benchling_sdk.auth.client_credentials_oauth2 import ClientCredentialsOAuth2
from benchling_sdk.benchling import Benchling

from pipelines.benchling.simulator import DEMO_API_KEY


def _flat(pages):
    return [x for page in pages for x in page]


def test_sdk_lists_everything(make_sim, small_generated):
    t = small_generated
    sim = make_sim(t)
    b = Benchling(url=sim.root_url, auth_method=ApiKeyAuth(DEMO_API_KEY), retry_strategy=None)
    assert {u.id for u in _flat(b.users.list(page_size=100))} == {u["id"] for u in t.users}
    assert {a.id for a in _flat(b.apps.list_apps(page_size=100))} == {a["id"] for a in t.apps}
    teams = _flat(b.teams.list(page_size=100))
    assert {x.id for x in teams} == {x["id"] for x in t.teams}
    got = set()
    for team in teams:
        for m in _flat(b.teams.list_memberships(team.id, page_size=100)):
            got.add((team.id, m.user.id, m.role.value))
    assert got == {(m["teamId"], m["user"]["id"], m["role"]) for m in t.memberships}
    big = max(t.teams, key=lambda x: sum(m["teamId"] == x["id"] for m in t.memberships))
    # default page size (the SDK omits pageSize for memberships): many pages for a big team
    assert len(_flat(b.teams.list_memberships(big["id"]))) == sum(m["teamId"] == big["id"] for m in t.memberships)

    live_p = {p["id"] for p in t.projects if p["archiveRecord"] is None}
    all_p = {p["id"] for p in t.projects}
    assert live_p != all_p
    assert {p.id for p in _flat(b.projects.list(page_size=100))} == live_p
    assert {p.id for p in _flat(b.projects.list(
        archive_reason="ANY_ARCHIVED_OR_NOT_ARCHIVED", page_size=100))} == all_p
    live_f = {f["id"] for f in t.folders if f["archiveRecord"] is None}
    all_f = {f["id"] for f in t.folders}
    assert live_f != all_f
    assert {f.id for f in _flat(b.folders.list(page_size=100))} == live_f
    assert {f.id for f in _flat(b.folders.list(
        archive_reason="ANY_ARCHIVED_OR_NOT_ARCHIVED", page_size=100))} == all_f
    assert {f.id for f in _flat(b.folders.list(archive_reason="ANY_ARCHIVED"))} == all_f - live_f
    assert b.rate_limit_limit is None  # rate limit off: no headers


def test_sdk_client_credentials_oauth(make_sim):
    sim = make_sim(rate_limit="60/30")
    auth = ClientCredentialsOAuth2(client_id="whsync-demo-client", client_secret=DEMO_API_KEY)
    b = Benchling(url=sim.root_url, auth_method=auth, retry_strategy=None)
    users = _flat(b.users.list(page_size=100))
    assert len(users) == len(sim.tenant.users)
    assert b.rate_limit_limit == "60"
    assert sim.stats()["by_path"]["POST /api/v2/token"] == 1
